import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes every tradeflow namespace needs, so the Temporal Web UI can filter runs
 * (e.g. `JobKind = "simulation" AND Models IN ("momentum")`): declared once here, as the typed keys the
 * code sets and as the list the dev server registers at start (on a cluster, `temporal operator
 * search-attribute create` with the same list; see README and docker-compose.yml).
 */
export const JOB_KIND = defineSearchAttributeKey('JobKind', SearchAttributeType.KEYWORD);
export const USER_ID = defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD);
export const MODELS = defineSearchAttributeKey('Models', SearchAttributeType.KEYWORD_LIST);
export const SYMBOLS = defineSearchAttributeKey('Symbols', SearchAttributeType.KEYWORD_LIST);

/** The name the CLI and the dev server's `--search-attribute` use for each type. */
const CLI_TYPE = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
} as const;

export const SEARCH_ATTRIBUTES = [JOB_KIND, USER_ID, MODELS, SYMBOLS].map((key) => ({
  name: key.name,
  type: CLI_TYPE[key.type as keyof typeof CLI_TYPE],
}));
