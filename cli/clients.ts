/**
 * AWS clients built from the default credential, region and endpoint chain only: no endpoint is ever set
 * here, so AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_LAMBDA
 * (emulators) all work as they do for the AWS CLI.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';

export interface Clients {
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  readonly lambda: LambdaClient;
}

/** Lazily created, so a command only needs credentials for the services it calls. */
export class LazyClients implements Clients {
  private sqsClient?: SQSClient;
  private ssmClient?: SSMClient;
  private lambdaClient?: LambdaClient;

  /**
   * When the operator configured an SQS endpoint (AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL), it wins over the
   * host inside queue URLs: emulators such as fauxqs hand out queue URLs whose host (sqs.<region>.localhost)
   * need not resolve. Against AWS nothing changes.
   */
  get sqs(): SQSClient {
    const configured = Boolean(process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL);
    return (this.sqsClient ??= new SQSClient(configured ? { useQueueUrlAsEndpoint: false } : {}));
  }

  get ssm(): SSMClient {
    return (this.ssmClient ??= new SSMClient({}));
  }

  /**
   * One attempt only: the SDK would otherwise retry a throttled or timed-out Invoke, which could start a
   * second drain. A drain runs up to its function timeout, so the socket may stay quiet for minutes.
   */
  get lambda(): LambdaClient {
    return (this.lambdaClient ??= new LambdaClient({ maxAttempts: 1 }));
  }

  destroy(): void {
    this.sqsClient?.destroy();
    this.ssmClient?.destroy();
    this.lambdaClient?.destroy();
  }
}
