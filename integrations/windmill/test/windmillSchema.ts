// The input schema Windmill shows for a script: its TypeScript parser (windmill-parser-wasm-ts, the one
// the wmill CLI and the web editor run) reads `main`'s parameters, and the CLI's inferSchema turns them
// into JSON Schema (windmill-cli esm/main.js, argSigToJsonSchemaType). That conversion is not exported,
// so the cases these scripts use are ported here; any other parser type is an error, not a guess.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSync, parse_deno } from 'windmill-parser-wasm-ts';

let ready = false;
function parser() {
  if (!ready) {
    const wasm = createRequire(import.meta.url).resolve('windmill-parser-wasm-ts/windmill_parser_wasm_bg.wasm');
    initSync({ module: readFileSync(wasm) });
    ready = true;
  }
  return parse_deno;
}

export interface ParsedArg {
  name: string;
  typ: unknown;
  default: unknown;
  has_default: boolean;
}

export function parseMain(code: string): { args: ParsedArg[]; type?: string; error?: string } {
  return JSON.parse(parser()(code));
}

type JsonSchema = Record<string, unknown>;

function property(typ: any): JsonSchema {
  if (typ === 'int') return { type: 'integer' };
  if (typ === 'float') return { type: 'number' };
  if (typ === 'bool') return { type: 'boolean' };
  if (typ && typeof typ === 'object') {
    if ('resource' in typ) return { type: 'object', format: `resource-${typ.resource}` };
    if ('str' in typ) {
      return typ.str
        ? { type: 'string', originalType: 'enum', enum: typ.str }
        : { type: 'string', originalType: 'string' };
    }
    if ('list' in typ && typ.list && typeof typ.list === 'object' && 'str' in typ.list && !typ.list.str) {
      return { type: 'array', items: { type: 'string' }, originalType: 'string[]' };
    }
  }
  throw new Error(`a parameter type these tests do not convert: ${JSON.stringify(typ)}`);
}

/** What `wmill generate-metadata` writes as a script's `schema` (descriptions aside). */
export function inputSchema(code: string): { required: string[]; properties: Record<string, JsonSchema> } {
  const parsed = parseMain(code);
  if (parsed.type === 'Invalid' || !Array.isArray(parsed.args)) {
    throw new Error(`Windmill cannot parse this script: ${parsed.error ?? JSON.stringify(parsed)}`);
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const arg of parsed.args) {
    properties[arg.name] = { ...property(arg.typ), default: arg.default };
    if (!arg.has_default) required.push(arg.name);
  }
  return { required, properties };
}
