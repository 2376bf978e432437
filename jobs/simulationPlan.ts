/**
 * The plan of a simulation: which model-days fall on which date. A plan is the job's trading dates and,
 * per model, the index of its first date (a model catching up starts earlier than one that is current);
 * from there a model runs every later date. Everything that asks which model-days a job has (the
 * workflow, the job record, the status view, the activities, the planner) asks here. Pure: the workflow
 * sandbox imports it.
 */
export interface SimulationPlan {
  dates: string[];
  /** Index into `dates` of each model's first day; a model not named starts at the first date. */
  modelStart: Record<string, number>;
}

export interface PlannedModelDay {
  model: string;
  date: string;
}

/** Index of `model`'s first date. */
export function firstIndexOf(plan: SimulationPlan, model: string): number {
  return Object.hasOwn(plan.modelStart, model) ? plan.modelStart[model]! : 0;
}

/** `model`'s first date, or undefined for a plan without dates. */
export function firstDateOf(plan: SimulationPlan, model: string): string | undefined {
  return plan.dates[firstIndexOf(plan, model)];
}

/** Of `models`, those that run on the date at `dateIndex`, in the order given. */
export function modelsOn(plan: SimulationPlan, models: readonly string[], dateIndex: number): string[] {
  return models.filter((m) => firstIndexOf(plan, m) <= dateIndex);
}

/** How many model-days `models` have in the plan. */
export function totalModelDays(plan: SimulationPlan, models: readonly string[]): number {
  return models.reduce((n, m) => n + Math.max(0, plan.dates.length - firstIndexOf(plan, m)), 0);
}

/** The dates the job spans: from the earliest first date of `models` to the last. */
export function spanOf(plan: SimulationPlan, models: readonly string[]): { start: string; end: string } | undefined {
  if (plan.dates.length === 0 || models.length === 0) return undefined;
  const first = Math.min(...models.map((m) => firstIndexOf(plan, m)));
  return { start: plan.dates[first]!, end: plan.dates.at(-1)! };
}

/** The model-days of `models` from the date at `fromIndex` on, by date then model (the order they run in). */
export function modelDaysOf(plan: SimulationPlan, models: readonly string[], fromIndex = 0): PlannedModelDay[] {
  const out: PlannedModelDay[] = [];
  for (let i = Math.max(0, fromIndex); i < plan.dates.length; i++) {
    for (const model of modelsOn(plan, models, i)) out.push({ model, date: plan.dates[i]! });
  }
  return out;
}
