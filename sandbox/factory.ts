import Dockerode from 'dockerode';
import { DockerSandbox } from './dockerSandbox.js';
import { ProcessSandbox } from './processSandbox.js';
import type { SandboxLog, SandboxMode, SandboxRunner } from './types.js';

export interface SandboxSettings {
  mode: SandboxMode;
  /** unix:///path/docker.sock, a bare socket path, or tcp://host:port; default: DOCKER_HOST, then /var/run/docker.sock. */
  dockerHost?: string;
  /** Docker mode: the pipeline image (see buildSandboxImage). */
  image?: string;
  stopGraceMs?: number;
  /** See SANDBOX_LABELS.scope. */
  scope?: string;
}

/** dockerode for a DOCKER_HOST-style address. */
export function dockerClient(dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'): Dockerode {
  if (dockerHost.startsWith('unix://')) return new Dockerode({ socketPath: dockerHost.slice('unix://'.length) });
  if (dockerHost.startsWith('/')) return new Dockerode({ socketPath: dockerHost });
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return new Dockerode({ protocol: 'http', host: url.hostname, port: Number(url.port || 2375) });
}

export function createSandboxRunner(settings: SandboxSettings, log?: SandboxLog): SandboxRunner {
  const common = {
    ...(settings.stopGraceMs !== undefined ? { stopGraceMs: settings.stopGraceMs } : {}),
    ...(settings.scope !== undefined ? { scope: settings.scope } : {}),
    ...(log ? { log } : {}),
  };
  switch (settings.mode) {
    case 'process':
      return new ProcessSandbox(common);
    case 'docker': {
      if (!settings.image) throw new Error('docker sandbox mode needs an image: build one with buildSandboxImage()');
      return new DockerSandbox({ docker: dockerClient(settings.dockerHost), image: settings.image, ...common });
    }
    default: {
      const mode: never = settings.mode;
      throw new Error(`unknown sandbox mode ${String(mode)}`);
    }
  }
}
