import { GetParameterHistoryCommand, type ParameterHistory, type SSMClient } from '@aws-sdk/client-ssm';

/** Every page of a parameter's history, oldest version first. */
async function* historyPages(ssm: SSMClient, name: string): AsyncGenerator<ParameterHistory[]> {
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 50, NextToken: nextToken }));
    yield page.Parameters ?? [];
    nextToken = page.NextToken;
  } while (nextToken);
}

/**
 * The newest version of a parameter with its who/when/why. GetParameter returns neither
 * the description nor who changed it, and the history comes oldest first, so page to the end.
 */
export async function latestParameterVersion(ssm: SSMClient, name: string): Promise<ParameterHistory | undefined> {
  let latest: ParameterHistory | undefined;
  for await (const versions of historyPages(ssm, name)) if (versions.length > 0) latest = versions[versions.length - 1];
  return latest;
}

/** One version with its description; undefined once SSM has dropped it (it keeps the last 100). */
export async function parameterVersion(ssm: SSMClient, name: string, version: number): Promise<ParameterHistory | undefined> {
  for await (const versions of historyPages(ssm, name)) {
    const found = versions.find((v) => v.Version === version);
    if (found) return found;
  }
  return undefined;
}
