import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../test/paths.js';
import { apiKeyFor, ConfigError, loadModelsConfig, parseModelsConfig } from './models.js';

describe('models config', () => {
  it('reads the shipped default: three built-in strategies enabled, LLMs disabled', async () => {
    const r = await loadModelsConfig(`${PROJECT_ROOT}config/models.default.json`);
    expect(r.ids()).toEqual(['buy-and-hold', 'momentum', 'mean-reversion']);
  });

  it('reads LLM models with the key taken from the environment variable named', () => {
    const r = parseModelsConfig({
      models: [
        { id: 'gpt', llm: { model: 'gpt-4o-mini', base_url: 'https://api.openai.com/v1', api_key_env: 'MY_KEY' } },
      ],
    });
    const m = r.get('gpt');
    expect(m).toMatchObject({ kind: 'llm', maxSteps: 30, initialCash: 10_000 });
    if (m?.kind !== 'llm') throw new Error('not llm');
    expect(apiKeyFor(m, { MY_KEY: 'sk-1' })).toBe('sk-1');
  });

  it("reads AI-Trader's default_config.json so its users can move over", () => {
    const r = parseModelsConfig(
      {
        agent_type: 'BaseAgent',
        date_range: { init_date: '2025-10-01', end_date: '2025-10-21' },
        models: [
          {
            name: 'claude-3.7-sonnet',
            basemodel: 'anthropic/claude-3.7-sonnet',
            signature: 'claude-3.7-sonnet',
            enabled: true,
          },
          { name: 'gpt-5', basemodel: 'openai/gpt-5', signature: 'gpt-5', enabled: false },
        ],
        agent_config: { max_steps: 12, max_retries: 3, base_delay: 1.0, initial_cash: 5000.0 },
        log_config: { log_path: './data/agent_data' },
      },
      { OPENAI_API_BASE: 'https://openrouter.ai/api/v1' },
    );
    expect(r.ids()).toEqual(['claude-3.7-sonnet']);
    expect(r.get('claude-3.7-sonnet')).toMatchObject({
      kind: 'llm',
      model: 'anthropic/claude-3.7-sonnet',
      baseUrl: 'https://openrouter.ai/api/v1',
      maxSteps: 12,
      initialCash: 5000,
    });
  });

  it('says what is wrong with a bad config', () => {
    expect(() => parseModelsConfig({ models: [{ id: 'x' }] })).toThrow(/exactly one of `strategy` or `llm`/);
    expect(() => parseModelsConfig({ models: [{ id: 'x', strategy: 'nope' }] })).toThrow(ConfigError);
    expect(() =>
      parseModelsConfig({
        models: [
          { id: 'a', strategy: 'momentum' },
          { id: 'a', strategy: 'momentum' },
        ],
      }),
    ).toThrow(/appears twice/);
    expect(() => parseModelsConfig({ models: [{ id: 'a', strategy: 'momentum', extra: 1 }] })).toThrow(/extra/);
  });
});
