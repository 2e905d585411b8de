/** Header names Spigot reads from deliveries; shared by the ingest template, the drain and the CLI. */

/** Delivery ids, each with the prefix its deduplication id gets, in order of preference. */
export const DELIVERY_ID_HEADERS: ReadonlyArray<readonly [header: string, prefix: string]> = [
  ['X-GitHub-Delivery', 'gh'],
  ['X-Gitlab-Event-UUID', 'gl'],
  ['X-Gitea-Delivery', 'gt'],
  ['X-Request-UUID', 'bb'],
];

/** The event name, by sender: GitHub, GitLab, Gitea, Bitbucket. */
export const EVENT_HEADERS: readonly string[] = ['X-GitHub-Event', 'X-Gitlab-Event', 'X-Gitea-Event', 'X-Event-Key'];

/** Deliveries from `spigot smoke` carry this header; the drain deletes them without calling Jenkins. */
export const SMOKE_HEADER = 'X-Spigot-Smoke';
