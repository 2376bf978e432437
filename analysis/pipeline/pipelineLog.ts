import { appendFileSync } from 'node:fs';
import type { PipelineLogLine } from '../contract.js';

/**
 * The pipeline's voice to the orchestrator: one NDJSON line per event on stdout (streamed live to
 * clients) and the same line as text in the run's execution log, so the folder is complete on its own.
 */
export class PipelineLog {
  constructor(
    private readonly logFile: string,
    private readonly write: (line: string) => void = (l) => process.stdout.write(l),
  ) {}

  private emit(line: PipelineLogLine): void {
    this.write(`${JSON.stringify(line)}\n`);
    const prefix = `${new Date().toISOString()} [${line.t}]${line.step ? ` [${line.step}]` : ''}`;
    appendFileSync(this.logFile, `${prefix} ${line.msg}\n`);
  }

  system(msg: string, step?: string): void {
    this.emit({ t: 'LOG', msg, ...(step ? { step } : {}) });
  }

  stage(step: string, stage: string): void {
    this.emit({ t: 'LOG', msg: `STAGE: ${stage}`, step, stage });
  }

  /** Model prose: one event per paragraph, prefixed with who speaks, so streams read like a transcript. */
  prose(role: string, text: string, step?: string): void {
    for (const para of text.split(/\n{2,}/)) {
      const msg = para.trim();
      if (msg) this.emit({ t: 'NL', msg: `[${role}] ${msg}`, ...(step ? { step } : {}) });
    }
  }
}
