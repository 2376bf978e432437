// Test support: a small evaluator for the formula subset the DCF workbook writes, so tests can recompute every
// formula from the file's own inputs and compare it with the cached result, instead of trusting the writer.
// Supports + - * / ^, comparisons, unary minus, cell and range references (optionally sheet-qualified, quoted
// or not, with $), numbers, TRUE/FALSE, and SUM AVERAGE MIN MAX COUNT ABS SQRT STDEV AND IF NA.

export type FormulaError = { error: string };
export type Scalar = number | boolean | string | null | FormulaError;
type Value = Scalar | Scalar[];

export interface SheetCell {
  formula?: string;
  value: Scalar;
}

/** Looks a cell up by sheet name and A1 address (no $). */
export type CellLookup = (sheet: string, address: string) => SheetCell | undefined;

export const isFormulaError = (value: unknown): value is FormulaError =>
  typeof value === 'object' && value !== null && 'error' in value;

export class FormulaEvaluator {
  private readonly cache = new Map<string, Scalar>();
  private readonly evaluating = new Set<string>();

  constructor(private readonly lookup: CellLookup) {}

  /** The value of a cell: its formula evaluated (recursively, from inputs), or its constant. */
  cell(sheet: string, address: string): Scalar {
    const key = `${sheet}!${address}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    if (this.evaluating.has(key)) throw new Error(`circular reference at ${key}`);
    this.evaluating.add(key);
    try {
      const cell = this.lookup(sheet, address);
      const value = cell?.formula === undefined ? (cell?.value ?? null) : this.evaluate(sheet, cell.formula);
      this.cache.set(key, value);
      return value;
    } finally {
      this.evaluating.delete(key);
    }
  }

  evaluate(sheet: string, formula: string): Scalar {
    const parser = new Parser(tokenize(formula), sheet, this);
    const value = parser.parseExpression();
    parser.expectEnd();
    return Array.isArray(value) ? (value[0] ?? null) : value;
  }
}

type Token =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ref'; sheet?: string; from: string; to?: string }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string };

const TOKEN =
  /\s*(?:(?<ref>(?:(?<sheet>'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)(?![A-Za-z0-9_(])|(?<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?<string>"(?:[^"]|"")*")|(?<name>[A-Za-z_][A-Za-z0-9_.]*)|(?<op><>|>=|<=|[-+*/^(),:<>=&]))/y;

function tokenize(formula: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  const source = formula.replace(/^=/, '');
  while (TOKEN.lastIndex < source.length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(source);
    if (!match?.groups) {
      if (/^\s*$/.test(source.slice(start))) break;
      throw new Error(`cannot tokenize formula at ${start}: ${source}`);
    }
    const { ref, sheet, number, string, name, op } = match.groups;
    if (ref !== undefined) {
      const body = sheet === undefined ? ref : ref.slice(sheet.length + 1);
      const [from, to] = body.replace(/\$/g, '').split(':');
      const sheetName = sheet?.startsWith("'") ? sheet.slice(1, -1).replace(/''/g, "'") : sheet;
      tokens.push({ kind: 'ref', sheet: sheetName, from: from!, to });
    } else if (number !== undefined) tokens.push({ kind: 'number', value: Number(number) });
    else if (string !== undefined) tokens.push({ kind: 'string', value: string.slice(1, -1).replace(/""/g, '"') });
    else if (name !== undefined) tokens.push({ kind: 'name', value: name.toUpperCase() });
    else if (op !== undefined) tokens.push({ kind: 'op', value: op });
  }
  return tokens;
}

class Parser {
  private position = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly sheet: string,
    private readonly evaluator: FormulaEvaluator,
  ) {}

  expectEnd(): void {
    if (this.position !== this.tokens.length) throw new Error(`unexpected token ${JSON.stringify(this.peek())}`);
  }

  parseExpression(): Value {
    const left = this.parseAdditive();
    const op = this.peekOp(['>', '<', '>=', '<=', '=', '<>']);
    if (!op) return left;
    this.position++;
    const right = this.parseAdditive();
    return binary(op, scalar(left), scalar(right));
  }

  private parseAdditive(): Value {
    let value = this.parseMultiplicative();
    for (let op = this.peekOp(['+', '-']); op; op = this.peekOp(['+', '-'])) {
      this.position++;
      value = binary(op, scalar(value), scalar(this.parseMultiplicative()));
    }
    return value;
  }

  private parseMultiplicative(): Value {
    let value = this.parsePower();
    for (let op = this.peekOp(['*', '/']); op; op = this.peekOp(['*', '/'])) {
      this.position++;
      value = binary(op, scalar(value), scalar(this.parsePower()));
    }
    return value;
  }

  // Excel binds unary minus tighter than ^ (-2^2 = 4) and evaluates ^ left to right.
  private parsePower(): Value {
    let value = this.parseUnary();
    while (this.peekOp(['^'])) {
      this.position++;
      value = binary('^', scalar(value), scalar(this.parseUnary()));
    }
    return value;
  }

  private parseUnary(): Value {
    const op = this.peekOp(['-', '+']);
    if (op) {
      this.position++;
      const operand = scalar(this.parseUnary());
      return op === '-' ? binary('-', 0, operand) : operand;
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Value {
    const token = this.tokens[this.position++];
    if (!token) throw new Error('unexpected end of formula');
    switch (token.kind) {
      case 'number':
      case 'string':
        return token.value;
      case 'ref':
        return this.reference(token.sheet ?? this.sheet, token.from, token.to);
      case 'name': {
        if (token.value === 'TRUE' || token.value === 'FALSE') {
          if (this.peekOp(['('])) this.position += 2; // TRUE()
          return token.value === 'TRUE';
        }
        this.expectOp('(');
        const args: Value[] = [];
        if (!this.peekOp([')'])) {
          args.push(this.parseExpression());
          while (this.peekOp([','])) {
            this.position++;
            args.push(this.parseExpression());
          }
        }
        this.expectOp(')');
        return callFunction(token.value, args);
      }
      case 'op':
        if (token.value === '(') {
          const value = this.parseExpression();
          this.expectOp(')');
          return value;
        }
        throw new Error(`unexpected operator ${token.value}`);
    }
  }

  private reference(sheet: string, from: string, to?: string): Value {
    if (to === undefined) return this.evaluator.cell(sheet, from);
    const start = splitAddress(from);
    const end = splitAddress(to);
    const values: Scalar[] = [];
    for (let row = Math.min(start.row, end.row); row <= Math.max(start.row, end.row); row++) {
      for (let column = Math.min(start.column, end.column); column <= Math.max(start.column, end.column); column++) {
        values.push(this.evaluator.cell(sheet, `${columnLetters(column)}${row}`));
      }
    }
    return values;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private peekOp(ops: readonly string[]): string | undefined {
    const token = this.peek();
    return token?.kind === 'op' && ops.includes(token.value) ? token.value : undefined;
  }

  private expectOp(op: string): void {
    if (!this.peekOp([op])) throw new Error(`expected ${op}, found ${JSON.stringify(this.peek())}`);
    this.position++;
  }
}

function splitAddress(address: string): { column: number; row: number } {
  const match = /^([A-Z]+)(\d+)$/.exec(address);
  if (!match) throw new Error(`bad address ${address}`);
  const column = [...match[1]!].reduce((total, letter) => total * 26 + letter.charCodeAt(0) - 64, 0);
  return { column, row: Number(match[2]) };
}

function columnLetters(column: number): string {
  let letters = '';
  for (let rest = column; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
  }
  return letters;
}

function scalar(value: Value): Scalar {
  if (Array.isArray(value)) throw new Error('a range cannot be used as a single value here');
  return value;
}

function toNumber(value: Scalar): number | FormulaError {
  if (isFormulaError(value)) return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === null) return 0;
  return { error: '#VALUE!' };
}

function binary(op: string, left: Scalar, right: Scalar): Scalar {
  if (isFormulaError(left)) return left;
  if (isFormulaError(right)) return right;
  const a = toNumber(left);
  const b = toNumber(right);
  if (isFormulaError(a)) return a;
  if (isFormulaError(b)) return b;
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? { error: '#DIV/0!' } : a / b;
    case '^':
      return a ** b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    default:
      throw new Error(`unsupported operator ${op}`);
  }
}

/** Numbers of a function's arguments; range cells that are not numbers are skipped, as in Excel. */
function numbersOf(args: readonly Value[]): number[] | FormulaError {
  const out: number[] = [];
  for (const arg of args) {
    if (Array.isArray(arg)) {
      for (const cell of arg) {
        if (isFormulaError(cell)) return cell;
        if (typeof cell === 'number') out.push(cell);
      }
    } else {
      const value = toNumber(arg);
      if (isFormulaError(value)) return value;
      out.push(value);
    }
  }
  return out;
}

function callFunction(name: string, args: readonly Value[]): Scalar {
  if (name === 'NA') return { error: '#N/A' };
  if (name === 'IF') {
    const condition = toNumber(scalar(args[0] ?? false));
    if (isFormulaError(condition)) return condition;
    return scalar((condition !== 0 ? args[1] : args[2]) ?? false);
  }
  if (name === 'AND') {
    const values: Scalar[] = args.flatMap((arg) => (Array.isArray(arg) ? arg.filter((cell) => cell !== null) : [arg]));
    for (const value of values) if (isFormulaError(value)) return value;
    return values.every((value) => Boolean(toNumber(value)));
  }
  const numbers = numbersOf(args);
  if (isFormulaError(numbers)) return numbers;
  const sum = numbers.reduce((total, value) => total + value, 0);
  switch (name) {
    case 'SUM':
      return sum;
    case 'COUNT':
      return numbers.length;
    case 'AVERAGE':
      return numbers.length === 0 ? { error: '#DIV/0!' } : sum / numbers.length;
    case 'MIN':
      return numbers.length === 0 ? 0 : Math.min(...numbers);
    case 'MAX':
      return numbers.length === 0 ? 0 : Math.max(...numbers);
    case 'ABS':
      return Math.abs(numbers[0] ?? 0);
    case 'SQRT':
      return (numbers[0] ?? 0) < 0 ? { error: '#NUM!' } : Math.sqrt(numbers[0] ?? 0);
    case 'STDEV': {
      if (numbers.length < 2) return { error: '#DIV/0!' };
      const mean = sum / numbers.length;
      return Math.sqrt(numbers.reduce((total, value) => total + (value - mean) ** 2, 0) / (numbers.length - 1));
    }
    default:
      throw new Error(`unsupported function ${name}`);
  }
}
