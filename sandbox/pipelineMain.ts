// Entry point of the analysis pipeline inside a sandbox (child process or container).
// Usage: pipelineMain <job folder>   (or JOB_DIR in the environment)
import { runPipelineCli } from '../analysis/pipeline/cli.js';

process.exitCode = await runPipelineCli(process.argv[2] ?? process.env.JOB_DIR);
