import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import {
  JobsQuery,
  ResultsQuery,
  RunAnalysisBody,
  StopBody,
  TradingAgentsJobBody,
  TriggerSimulationBody,
} from './schemas.js';

type JsonSchema = Record<string, unknown>;

/** JSON Schema of what a client sends, from the same zod schemas that validate requests. */
function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function queryParameters(schema: z.ZodObject) {
  const json = inputSchema(schema) as { properties: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties).map(([name, s]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: s,
  }));
}

const jobIdParameter = { name: 'job_id', in: 'path', required: true, schema: { type: 'string' } };
const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});
const errors = (...codes: Array<keyof typeof ERROR_CODES>) =>
  Object.fromEntries(
    codes.map((code) => [
      String(ERROR_CODES[code]),
      { description: code, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );

/** The OpenAPI 3.1 document served at `/openapi.json`. */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'tradeflow',
      version: '0.1.0',
      description:
        'AI trading-analysis and trading-simulation jobs as Temporal durable workflows. Errors are `{ error, message, ... }`.',
    },
    paths: {
      '/run': {
        post: {
          summary: 'Start an analysis of one ticker, or a batch (`tickers`) as child workflows',
          requestBody: { required: true, content: { 'application/json': { schema: inputSchema(RunAnalysisBody) } } },
          responses: {
            '202': json('the job (or `batch_id`, `job_ids`, `jobs` for a batch)'),
            ...errors('bad_request', 'validation_error', 'unknown_ticker', 'unknown_model', 'service_unavailable'),
          },
        },
      },
      '/jobs/{job_id}/result': {
        get: {
          summary: 'TradingAgents-shaped result: decision, final_state, analyst reports',
          parameters: [jobIdParameter],
          responses: { '200': json('result'), ...errors('not_found', 'not_completed') },
        },
      },
      '/jobs/{job_id}/files': {
        get: {
          summary: 'The run’s manifest: every file with size and SHA-256',
          parameters: [jobIdParameter],
          responses: { '200': json('files'), ...errors('not_found') },
        },
      },
      '/jobs/{job_id}/files/{path}': {
        get: {
          summary: 'One file of the run, by its manifest path (nothing outside the run is served)',
          parameters: [jobIdParameter, { name: 'path', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'the file; ETag is its SHA-256' },
            ...errors('not_found', 'file_not_available'),
          },
        },
      },
      '/jobs/{job_id}/download/{artifact}': {
        get: {
          summary:
            'A named artifact: financial-model, professional-report, professional-report-markdown, financial-summary, news-summary, price-adjustment, execution-log, all-results (tar); `?format=pdf` renders markdown as PDF',
          parameters: [
            jobIdParameter,
            { name: 'artifact', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'format', in: 'query', required: false, schema: { enum: ['pdf'] } },
          ],
          responses: {
            '200': { description: 'the file' },
            ...errors('not_found', 'file_not_available', 'validation_error'),
          },
        },
      },
      '/batches/{batch_id}': {
        get: {
          summary: 'A batch’s jobs and counts per status',
          parameters: [{ name: 'batch_id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': json('batch'), ...errors('not_found') },
        },
      },
      '/simulate/trigger': {
        post: {
          summary: 'Start a simulation, or return the same request’s job',
          parameters: [
            { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } },
          ],
          requestBody: {
            required: false,
            content: { 'application/json': { schema: inputSchema(TriggerSimulationBody) } },
          },
          responses: {
            '202': json('a new job'),
            '200': json('the existing job for the same request, or `status: current` when nothing is left to run'),
            ...errors(
              'bad_request',
              'validation_error',
              'conflict',
              'unsupported_media_type',
              'payload_too_large',
              'service_unavailable',
            ),
          },
        },
      },
      '/simulate/status/{job_id}': {
        get: {
          summary: 'Status, progress and per model-day details',
          parameters: [jobIdParameter],
          responses: { '200': json('job status'), ...errors('not_found') },
        },
      },
      '/simulate/current': {
        get: { summary: 'The latest job', responses: { '200': json('job status'), ...errors('not_found') } },
      },
      '/jobs': {
        get: {
          summary: 'List jobs, newest first',
          parameters: queryParameters(JobsQuery),
          responses: { '200': json('a page of jobs'), ...errors('bad_request') },
        },
        post: {
          summary: 'TradingAgents job API: ticker + date -> decision (an analysis job)',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: inputSchema(TradingAgentsJobBody) } },
          },
          responses: {
            '202': json('{ job_id, status, created_at, ticker, date }'),
            ...errors('bad_request', 'validation_error', 'unknown_ticker', 'unknown_model', 'service_unavailable'),
          },
        },
      },
      '/jobs/{job_id}': {
        get: {
          summary: 'Same as the status endpoint',
          parameters: [jobIdParameter],
          responses: { '200': json('job status'), ...errors('not_found') },
        },
      },
      '/jobs/{job_id}/stop': {
        post: {
          summary: 'Stop a job (a new trigger of the same request resumes it)',
          parameters: [jobIdParameter],
          requestBody: { required: false, content: { 'application/json': { schema: inputSchema(StopBody) } } },
          responses: { '202': json('stop requested'), ...errors('not_found', 'not_running', 'bad_request') },
        },
      },
      '/jobs/{job_id}/retry': {
        post: {
          summary: 'Run what a stopped, failed or partial job left undone',
          parameters: [jobIdParameter],
          responses: {
            '202': json('the resuming job'),
            '200': json('nothing left, or the same job already running'),
            ...errors('not_found', 'not_retryable', 'conflict'),
          },
        },
      },
      '/jobs/{job_id}/status/detailed': {
        get: {
          summary: 'Steps, timings, per-model tokens and cost',
          parameters: [jobIdParameter],
          responses: { '200': json('detailed status'), ...errors('not_found') },
        },
      },
      '/jobs/{job_id}/logs': {
        get: {
          summary: 'A page of the job’s events',
          parameters: [
            jobIdParameter,
            { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500 } },
          ],
          responses: { '200': json('events'), ...errors('not_found', 'bad_request') },
        },
      },
      '/jobs/{job_id}/logs/stream': {
        get: {
          summary: 'Live events (SSE: connection, status, log, completed, error); resume with Last-Event-ID',
          parameters: [
            jobIdParameter,
            { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'text/event-stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errors('not_found', 'bad_request'),
          },
        },
      },
      '/results': {
        get: {
          summary: 'Per-day positions, trades and P&L, or daily values and period metrics over a range',
          parameters: queryParameters(ResultsQuery),
          responses: { '200': json('results'), ...errors('bad_request', 'validation_error') },
        },
      },
      '/models': { get: { summary: 'Configured models', responses: { '200': json('models') } } },
      '/health': {
        get: {
          summary: 'Temporal and MongoDB reachability',
          responses: { '200': json('healthy'), '503': json('unhealthy') },
        },
      },
    },
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: { error: { type: 'string', enum: Object.keys(ERROR_CODES) }, message: { type: 'string' } },
        },
      },
    },
  };
}
