import { Construct } from 'constructs';
import { Wafv2WebAcl } from '@cdktf/provider-aws/lib/wafv2-web-acl';
import { Wafv2WebAclAssociation } from '@cdktf/provider-aws/lib/wafv2-web-acl-association';

export interface SourceRateLimitOptions {
  readonly name: string;
  /** The API stage the web ACL sits in front of. */
  readonly stageArn: string;
  /** Requests one source IP may make in any 5 minutes before the rest are refused. */
  readonly ratePer5Minutes: number;
}

/** CloudWatch metric names (AWS/WAFV2 `WebACL` and `Rule` dimensions) the alarm reads. */
export const wafMetricNames = (name: string) => ({ webAcl: `${name}-webhooks`, rule: `${name}-rate-per-source-ip` });

const RATE_LIMITED_BODY = 'rate-limited';

/**
 * Optional AWS WAF in front of the stage (config `waf`; billed, so off by default): one rate-based
 * rule per source IP. The stage throttle caps everyone together, so one noisy source could starve
 * genuine senders; this caps each source alone. Refused requests get 429 with the API's JSON shape.
 */
export class SourceRateLimit extends Construct {
  readonly webAcl: Wafv2WebAcl;
  readonly metricNames: ReturnType<typeof wafMetricNames>;

  constructor(scope: Construct, id: string, options: SourceRateLimitOptions) {
    super(scope, id);
    this.metricNames = wafMetricNames(options.name);
    this.webAcl = new Wafv2WebAcl(this, 'web-acl', {
      name: `${options.name}-webhooks`,
      description: 'Spigot: rate limit per source IP on the webhook API',
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      customResponseBody: [{
        key: RATE_LIMITED_BODY,
        contentType: 'APPLICATION_JSON',
        content: JSON.stringify({ queued: false, message: 'Too many requests from this address; nothing was queued. Redeliver this delivery later.' }),
      }],
      rule: [{
        name: 'rate-per-source-ip',
        priority: 0,
        action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: RATE_LIMITED_BODY } } },
        // `statement` is untyped in the provider bindings, so it is written as Terraform JSON.
        statement: { rate_based_statement: { limit: options.ratePer5Minutes, aggregate_key_type: 'IP', evaluation_window_sec: 300 } },
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: this.metricNames.rule, sampledRequestsEnabled: true },
      }],
      visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: this.metricNames.webAcl, sampledRequestsEnabled: true },
    });
    new Wafv2WebAclAssociation(this, 'stage', { resourceArn: options.stageArn, webAclArn: this.webAcl.arn });
  }
}
