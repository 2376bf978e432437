/**
 * Custom search attributes every tradeflow namespace needs, so the Temporal Web UI can filter runs
 * (e.g. `JobKind = "simulation" AND Models IN ("momentum")`). The dev server registers them at start;
 * on a cluster run `temporal operator search-attribute create` with the same list (see README).
 */
export const SEARCH_ATTRIBUTES = [
  { name: 'JobKind', type: 'Keyword' },
  { name: 'UserId', type: 'Keyword' },
  { name: 'Models', type: 'KeywordList' },
  { name: 'Symbols', type: 'KeywordList' },
] as const;
