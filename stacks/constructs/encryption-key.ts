import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';

export interface EncryptionKeyOptions {
  readonly name: string;
  readonly region: string;
}

/**
 * One customer-managed key for everything Spigot stores: the queues (webhook bodies),
 * the log groups, the alarm topic and the drain's environment. A CMK (not the AWS-managed
 * key) lets the key policy decide who can read held webhooks, and can be revoked.
 */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;
  readonly accountId: string;
  private readonly policy: DataAwsIamPolicyDocument;

  constructor(scope: Construct, id: string, private readonly options: EncryptionKeyOptions) {
    super(scope, id);
    const identity = new DataAwsCallerIdentity(this, 'identity');
    this.accountId = identity.accountId;
    this.policy = new DataAwsIamPolicyDocument(this, 'policy', { statement: this.statements([]) });
    this.key = new KmsKey(this, 'key', {
      description: `Spigot ${options.name}: held webhooks, logs and alarms`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: this.policy.json,
    });
    new KmsAlias(this, 'alias', { name: `alias/${options.name}`, targetKeyId: this.key.keyId });
  }

  /**
   * The log groups CloudWatch Logs may encrypt with this key, by exact name: a pattern would also
   * match other environments' groups (`*spigot*` matches `spigot-staging`'s). Names, not the
   * groups' ARN attributes, because the groups themselves depend on the key.
   */
  encryptLogGroups(names: readonly string[]): void {
    this.policy.putStatement(this.statements(names));
  }

  private statements(logGroupNames: readonly string[]): DataAwsIamPolicyDocumentStatement[] {
    const { region } = this.options;
    const logs: DataAwsIamPolicyDocumentStatement[] = logGroupNames.length === 0 ? [] : [{
      sid: 'CloudWatchLogsEncryptsSpigotLogs',
      principals: [{ type: 'Service', identifiers: [`logs.${region}.amazonaws.com`] }],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      condition: [{
        test: 'ArnEquals',
        variable: 'kms:EncryptionContext:aws:logs:arn',
        values: logGroupNames.map((name) => `arn:aws:logs:${region}:${this.accountId}:log-group:${name}`),
      }],
    }];
    return [
      {
        sid: 'AccountAdministersKey',
        principals: [{ type: 'AWS', identifiers: [`arn:aws:iam::${this.accountId}:root`] }],
        actions: ['kms:*'],
        resources: ['*'],
      },
      ...logs,
      {
        sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
        principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      },
    ];
  }
}
