import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
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

  constructor(scope: Construct, id: string, options: EncryptionKeyOptions) {
    super(scope, id);
    const identity = new DataAwsCallerIdentity(this, 'identity');
    this.accountId = identity.accountId;
    const policy = new DataAwsIamPolicyDocument(this, 'policy', {
      statement: [
        {
          sid: 'AccountAdministersKey',
          principals: [{ type: 'AWS', identifiers: [`arn:aws:iam::${identity.accountId}:root`] }],
          actions: ['kms:*'],
          resources: ['*'],
        },
        {
          sid: 'CloudWatchLogsEncryptsSpigotLogs',
          principals: [{ type: 'Service', identifiers: [`logs.${options.region}.amazonaws.com`] }],
          actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          resources: ['*'],
          condition: [{
            test: 'ArnLike',
            variable: 'kms:EncryptionContext:aws:logs:arn',
            values: [`arn:aws:logs:${options.region}:${identity.accountId}:log-group:*${options.name}*`],
          }],
        },
        {
          sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
          principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        },
      ],
    });
    this.key = new KmsKey(this, 'key', {
      description: `Spigot ${options.name}: held webhooks, logs and alarms`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policy.json,
    });
    new KmsAlias(this, 'alias', { name: `alias/${options.name}`, targetKeyId: this.key.keyId });
  }
}
