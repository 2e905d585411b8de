/** Header names Spigot reads from deliveries; shared by the ingest template, the drain and the CLI. */

/**
 * Delivery ids, in order of preference: GitHub, GitLab, Gitea, Bitbucket. Shown by `dlq list`; Spigot
 * does not deduplicate on them (a redelivery reuses the id and must reach Jenkins).
 */
export const DELIVERY_ID_HEADERS: readonly string[] = ['X-GitHub-Delivery', 'X-Gitlab-Event-UUID', 'X-Gitea-Delivery', 'X-Request-UUID'];

/** The event name, by sender: GitHub, GitLab, Gitea, Bitbucket. */
export const EVENT_HEADERS: readonly string[] = ['X-GitHub-Event', 'X-Gitlab-Event', 'X-Gitea-Event', 'X-Event-Key'];

/** Deliveries from `spigot smoke` carry this header; the drain deletes them without calling Jenkins. */
export const SMOKE_HEADER = 'X-Spigot-Smoke';
