/** Trust policy letting one AWS service assume a role. */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

/** Trust policy letting AWS principals (role, user or account ARNs) and services assume a role: one statement per kind. */
export function trustPolicy(principals: { readonly aws?: readonly string[]; readonly services?: readonly string[] }): string {
  const statements = [
    ...(principals.aws?.length ? [{ Sid: 'AgentPrincipals', Effect: 'Allow', Principal: { AWS: [...principals.aws] }, Action: 'sts:AssumeRole' }] : []),
    ...(principals.services?.length ? [{ Sid: 'AgentServices', Effect: 'Allow', Principal: { Service: [...principals.services] }, Action: 'sts:AssumeRole' }] : []),
  ];
  if (statements.length === 0) throw new Error('a role needs at least one principal that may assume it');
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
