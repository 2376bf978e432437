import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { devServerArgs } from '../temporal-config/dev-server.js';
import { SEARCH_ATTRIBUTES } from '../temporal-config/search-attributes.js';
import { PROJECT_ROOT } from './paths.js';

describe('production shape', () => {
  it('docker-compose.yml is accepted by a compose validator, with health checks and volumes', () => {
    const check = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    });
    expect(check.error, 'docker-compose must be installed (npm test installs it)').toBeUndefined();
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);

    const rendered = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    }).stdout;
    for (const service of ['postgresql', 'temporal', 'temporal-ui', 'mongodb', 'api', 'worker']) {
      const block = rendered.split(/\n {2}(?=\S)/).find((b) => b.startsWith(`${service}:`));
      expect(block, service).toBeDefined();
      expect(block, `${service} health check`).toContain('healthcheck:');
    }
    expect(rendered).toMatch(/volumes:\n\s+mongodb-data/);
    // Temporal (gRPC and Web UI, which has no sign-in here) only on the host's loopback; the API checks Host.
    const block = (name: string) => rendered.split(/\n {2}(?=\S)/).find((b) => b.startsWith(`${name}:`))!;
    for (const service of ['temporal', 'temporal-ui']) {
      // Compose v1 renders `- 127.0.0.1:8233:8080/tcp`, v2 `host_ip: 127.0.0.1`; never a port on every address.
      expect(block(service), service).toMatch(/host_ip: 127\.0\.0\.1|- 127\.0\.0\.1:\d+:\d+/);
      expect(block(service), service).not.toMatch(/host_ip: 0\.0\.0\.0|^\s+- "?\d+:\d+|^\s+- published:/m);
    }
    expect(block('api')).toMatch(/TRADEFLOW_ALLOWED_HOSTS: api,api:8080/);
    expect(block('api')).not.toMatch(/TRADEFLOW_AUTH: /);
  });

  it('registers the same search attributes in compose as the dev server', () => {
    const compose = readFileSync(`${PROJECT_ROOT}docker-compose.yml`, 'utf8');
    for (const sa of SEARCH_ATTRIBUTES) expect(compose).toContain(`${sa.name}=${sa.type}`);
  });

  it("gives compose's Temporal the dev server's eager activity dispatch", () => {
    const compose = readFileSync(`${PROJECT_ROOT}docker-compose.yml`, 'utf8');
    expect(compose).toContain('./temporal-config/dynamicconfig.yaml:/etc/temporal/config/dynamicconfig/tradeflow.yaml');
    expect(compose).toContain('DYNAMIC_CONFIG_FILE_PATH: /etc/temporal/config/dynamicconfig/tradeflow.yaml');
    const dynamic = readFileSync(`${PROJECT_ROOT}temporal-config/dynamicconfig.yaml`, 'utf8');
    expect(dynamic).toMatch(/^system\.enableActivityEagerExecution:\n {2}- value: true$/m);
    const dev = devServerArgs({ port: 1, uiPort: 2, headless: true, searchAttributes: [] });
    expect(dev).toContain('system.enableActivityEagerExecution=true');
  });

  it('builds the app image on Node 24', () => {
    expect(readFileSync(`${PROJECT_ROOT}Dockerfile`, 'utf8')).toMatch(/^FROM node:24/m);
  });
});
