import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../../stacks/config';
import { REQUIRED_TERRAFORM_VERSION } from '../../stacks/spigot-stack';
import { onlyResourceOfType, ref, resourcesOfType, synthStack } from '../support/synth';

type Version = [number, number, number];

function parseVersion(text: string): Version {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`not a version: ${JSON.stringify(text)}`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** Terraform-style constraints joined by commas: =, !=, >, >=, <, <=, ~> (pessimistic). */
function satisfies(version: string, constraint: string): boolean {
  const v = parseVersion(version);
  return constraint.split(',').map((c) => c.trim()).filter(Boolean).every((clause) => {
    const match = /^(>=|<=|!=|~>|>|<|=)?\s*(\S+)$/.exec(clause);
    if (!match) throw new Error(`unsupported constraint ${JSON.stringify(clause)}`);
    const [, op = '=', target] = match;
    const segments = target.split('.').length;
    const t = parseVersion(target);
    const c = compare(v, t);
    switch (op) {
      case '=': return c === 0;
      case '!=': return c !== 0;
      case '>': return c > 0;
      case '>=': return c >= 0;
      case '<': return c < 0;
      case '<=': return c <= 0;
      default: {
        // ~> 1.9.8 means >= 1.9.8, < 1.10.0; ~> 1.9 means >= 1.9, < 2.0.
        const upper: Version = segments >= 3 ? [t[0], t[1] + 1, 0] : [t[0] + 1, 0, 0];
        return c >= 0 && compare(v, upper) < 0;
      }
    }
  });
}

describe('terraform version constraint checker', () => {
  it('when given ">= a, < b" constraints, it accepts versions in range and rejects the bounds outside it', () => {
    expect(satisfies('1.9.8', '>= 1.9.8, < 2.0.0')).toBe(true);
    expect(satisfies('1.12.2', '>= 1.9.8, < 2.0.0')).toBe(true);
    expect(satisfies('1.9.7', '>= 1.9.8, < 2.0.0')).toBe(false);
    expect(satisfies('2.0.0', '>= 1.9.8, < 2.0.0')).toBe(false);
    expect(satisfies('1.10.0', '~> 1.9.8')).toBe(false);
    expect(satisfies('1.9.9', '~> 1.9.8')).toBe(true);
    expect(satisfies('1.9.9', '= 1.9.9')).toBe(true);
  });
});

describe('terraform block and outputs', () => {
  const { parsed } = synthStack();

  it('when synthesized, terraform.required_version is satisfied by .terraform-version', () => {
    const pinned = readFileSync(path.resolve(__dirname, '..', '..', '.terraform-version'), 'utf8').trim();
    expect(parsed.terraform?.required_version).toBe(REQUIRED_TERRAFORM_VERSION);
    expect(satisfies(pinned, parsed.terraform!.required_version)).toBe(true);
  });

  it('when synthesized with defaults, it outputs a webhook URL per route on the live stage', () => {
    const [stageId] = onlyResourceOfType(parsed, 'aws_api_gateway_stage');
    const outputs = parsed.output ?? {};
    DEFAULT_CONFIG.routes.forEach((route, i) => {
      expect(outputs[`webhook_url_${i}`]?.value).toBe(`${ref('aws_api_gateway_stage', stageId, 'invoke_url')}${route}`);
    });
    expect(Object.keys(outputs).filter((name) => /^webhook_url_\d+$/.test(name))).toHaveLength(DEFAULT_CONFIG.routes.length);
  });

  it('when routes are configured, there is one webhook URL output per configured route', () => {
    const { parsed: other } = synthStack({ routes: ['/only/'] });
    const names = Object.keys(other.output ?? {}).filter((name) => /^webhook_url_\d+$/.test(name));
    expect(names).toEqual(['webhook_url_0']);
    expect(String(other.output!.webhook_url_0.value)).toMatch(/\}\/only\/$/);
  });

  it('when synthesized with defaults, it outputs the queue URL, DLQ URL and spigot parameter name', () => {
    const queues = resourcesOfType(parsed, 'aws_sqs_queue');
    const idOf = (name: string) => Object.entries(queues).find(([, q]) => q.name === name)![0];
    const parameterId = (name: string) => Object.entries(resourcesOfType(parsed, 'aws_ssm_parameter')).find(([, p]) => p.name === name)![0];
    expect(parsed.output).toMatchObject({
      queue_url: { value: ref('aws_sqs_queue', idOf('spigot-buffer.fifo'), 'url') },
      dlq_url: { value: ref('aws_sqs_queue', idOf('spigot-dlq.fifo'), 'url') },
      spigot_parameter_name: { value: ref('aws_ssm_parameter', parameterId('/spigot/spigot'), 'name') },
      drain_status_parameter_name: { value: ref('aws_ssm_parameter', parameterId('/spigot/drain-status'), 'name') },
    });
  });
});
