#!/usr/bin/env bash
# Static security scan of the synthesized stack with checkov (pinned), configured by .checkov.yaml.
# Exit 0: every check passed or is skipped with a reason in .checkov.yaml. Non-zero: a failed
# check, a file checkov could not parse, or a setup error.
#
# - Creates .venv/checkov and installs checkov there if it is missing (idempotent).
# - Synthesizes (npx tsx main.ts) if cdktf.out is missing, or older than the stack sources.
# - checkov 3.3.30's terraform_json parser cannot read the `terraform.required_version` string
#   that cdktf writes ("this method receives only dicts"), and then reports 0 checks and exits 0.
#   So the scan runs on a copy of each stack without that key (and without the locals, removed and
#   check blocks it cannot read either), and fails on any parse error.
# - Also synthesizes __tests__/fixtures/spigot.vpc.config.json (the drain in a VPC, with interface
#   endpoints) into a temporary directory and scans it too, so the VPC resources are checked.
#   CKV_AWS_117 ("Lambda in a VPC") is skipped only for stacks whose drain has no vpc_config;
#   on the VPC stack it runs and must pass.
# - Also synthesizes __tests__/fixtures/spigot.agent.config.json (drain.mode "agent" with every agent
#   identity: assumed role, instance profile, user in a group) and scans it with the stacks without a VPC.
# - SPIGOT_CHECKOV_VENV overrides where checkov is installed (default .venv/checkov).
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
VENV=${SPIGOT_CHECKOV_VENV:-.venv/checkov}
CHECKOV="$VENV/bin/checkov"

if [ "$("$CHECKOV" --version 2>/dev/null || true)" != "$CHECKOV_VERSION" ]; then
  echo "scan: installing checkov $CHECKOV_VERSION into $VENV" >&2
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi

stale() {
  local out
  out=$(ls cdktf.out/stacks/*/cdk.tf.json 2>/dev/null | head -n 1) || true
  [ -z "$out" ] && return 0
  [ -n "$(find main.ts stacks -name '*.ts' -newer "$out" | head -n 1)" ] || { [ -f spigot.config.json ] && [ spigot.config.json -nt "$out" ]; }
}
if [ ! -d cdktf.out ] || stale; then
  echo "scan: synthesizing (npx tsx main.ts)" >&2
  npx tsx main.ts
fi

scan_root=$(mktemp -d)
trap 'rm -rf "$scan_root"' EXIT
VPC_FIXTURE=__tests__/fixtures/spigot.vpc.config.json
echo "scan: synthesizing $VPC_FIXTURE" >&2
SPIGOT_CONFIG="$VPC_FIXTURE" CDKTF_OUTDIR="$scan_root/vpc-synth" npx tsx main.ts >/dev/null
AGENT_FIXTURE=__tests__/fixtures/spigot.agent.config.json
echo "scan: synthesizing $AGENT_FIXTURE" >&2
SPIGOT_CONFIG="$AGENT_FIXTURE" CDKTF_OUTDIR="$scan_root/agent-synth" npx tsx main.ts >/dev/null
node - "$scan_root" cdktf.out/stacks/*/cdk.tf.json "$scan_root"/vpc-synth/stacks/*/cdk.tf.json "$scan_root"/agent-synth/stacks/*/cdk.tf.json <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [root, ...files] = process.argv.slice(2);
if (files.length === 0 || !fs.existsSync(files[0])) { console.error('scan: no cdktf.out/stacks/*/cdk.tf.json'); process.exit(1); }
for (const file of files) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  // .checkov.yaml skips the IAM-policy-document checks because the KMS key policy is the only
  // policy document; refuse to scan if that stops being true, rather than hide a role policy.
  const keyPolicies = new Set(Object.values(doc.resource?.aws_kms_key ?? {}).map((k) => k.policy));
  for (const id of Object.keys(doc.data?.aws_iam_policy_document ?? {})) {
    if (!keyPolicies.has(`\${data.aws_iam_policy_document.${id}.json}`)) {
      console.error(`scan: data.aws_iam_policy_document.${id} is not a KMS key policy; .checkov.yaml's CKV_AWS_109/111/356 skips assume it is. Review them.`);
      process.exit(1);
    }
  }
  // .checkov.yaml skips CKV_AWS_273 (IAM users) for the opt-in agent user only; refuse any other user.
  for (const [id, user] of Object.entries(doc.resource?.aws_iam_user ?? {})) {
    if (!String(user.name).endsWith('-drain-agent')) {
      console.error(`scan: aws_iam_user.${id} is not the drain agent's opt-in user; .checkov.yaml's CKV_AWS_273 skip assumes it is. Review it.`);
      process.exit(1);
    }
  }
  if (doc.terraform) delete doc.terraform.required_version;
  // Same parser limit for blocks that are not dicts of dicts: locals (strings), removed (a list) and
  // check blocks. None of them creates or configures a resource, so no check loses its input.
  for (const block of ['locals', 'removed', 'check']) delete doc[block];
  // Stacks whose drain runs in a VPC are scanned with CKV_AWS_117 on; the others without it.
  const functions = Object.values(doc.resource?.aws_lambda_function ?? {});
  const group = functions.length > 0 && functions.every((f) => f.vpc_config) ? 'vpc' : 'no-vpc';
  const dir = path.join(root, group, `${path.basename(path.dirname(path.dirname(path.dirname(file))))}-${path.basename(path.dirname(file))}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'cdk.tf.json'), JSON.stringify(doc, null, 2));
}
EOF

skips=$(sed -n '/^skip-check:/,/^[^ ]/p' .checkov.yaml | sed -n 's/^ *- *\(CKV[A-Z0-9_]*\).*/\1/p' | tr '\n' ' ')
skips=${skips% }
# Lambda outside a VPC: by design unless drain.vpc is set (reason in .checkov.yaml's header).
NO_VPC_ONLY=CKV_AWS_117

# scan <group> <comma-separated skips>: checkov on one group of stacks; fails on any parse error.
scan() {
  local log="$scan_root/checkov-$1.log" status summary
  echo "scan: $1 stacks: $(ls "$scan_root/$1" | tr '\n' ' ')" >&2
  set +e
  # --skip-check replaces the config file's list, so it carries the whole list.
  "$CHECKOV" -d "$scan_root/$1" --framework terraform_json --config-file .checkov.yaml --skip-check "$2" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  summary=$(grep -E '^Passed checks:' "$log" || true)
  if [ -z "$summary" ]; then
    echo "scan: checkov printed no summary for the $1 stacks" >&2; return 1
  fi
  if grep -qE 'Parsing errors: [1-9]' <<<"$summary"; then
    echo "scan: checkov could not parse the $1 stacks; their checks did not run" >&2; return 1
  fi
  if grep -qE '^Passed checks: 0,' <<<"$summary"; then
    echo "scan: checkov ran no checks on the $1 stacks" >&2; return 1
  fi
  return "$status"
}

[ -d "$scan_root/vpc" ] || { echo "scan: the VPC fixture did not synthesize a drain in a VPC" >&2; exit 1; }
status=0
if [ -d "$scan_root/no-vpc" ]; then
  scan no-vpc "$(tr ' ' ',' <<<"$skips $NO_VPC_ONLY")" || status=1
fi
scan vpc "$(tr ' ' ',' <<<"$skips")" || status=1
# Quiet mode prints failures only: ask for this one check's result to see it ran and passed.
"$CHECKOV" -d "$scan_root/vpc" --framework terraform_json --skip-download --check "$NO_VPC_ONLY" -o json 2>/dev/null | node -e '
  const out = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const reports = Array.isArray(out) ? out : [out];
  const passed = reports.reduce((n, r) => n + (r.summary?.passed ?? 0), 0);
  const failed = reports.reduce((n, r) => n + (r.summary?.failed ?? 0), 0);
  if (passed === 0 || failed > 0) { console.error(`scan: ${process.argv[1]} on the VPC stack: ${passed} passed, ${failed} failed`); process.exit(1); }
  console.error(`scan: ${process.argv[1]} (Lambda in a VPC) passed on the VPC stack`);
' "$NO_VPC_ONLY" || status=1
echo "scan: not run, by design (reasons in .checkov.yaml): $skips; and $NO_VPC_ONLY on stacks without drain.vpc"
exit "$status"
