import { GetParameterHistoryCommand, type ParameterHistory, type SSMClient } from '@aws-sdk/client-ssm';

/**
 * The newest version of a parameter with its who/when/why. GetParameter returns neither
 * the description nor who changed it, and the history comes oldest first, so page to the end.
 */
export async function latestParameterVersion(ssm: SSMClient, name: string): Promise<ParameterHistory | undefined> {
  let latest: ParameterHistory | undefined;
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 50, NextToken: nextToken }));
    const versions = page.Parameters ?? [];
    if (versions.length > 0) latest = versions[versions.length - 1];
    nextToken = page.NextToken;
  } while (nextToken);
  return latest;
}
