// A fixed stand-in pipeline: the image cache test must not depend on the real pipeline's edits.
process.stdout.write(`${JSON.stringify({ t: 'LOG', msg: `echo pipeline (job folder ${process.argv[2]})` })}\n`);
