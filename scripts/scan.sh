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
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
VENV=.venv/checkov
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
node - "$scan_root" cdktf.out/stacks/*/cdk.tf.json <<'EOF'
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
  if (doc.terraform) delete doc.terraform.required_version;
  // Same parser limit for blocks that are not dicts of dicts: locals (strings), removed (a list) and
  // check blocks. None of them creates or configures a resource, so no check loses its input.
  for (const block of ['locals', 'removed', 'check']) delete doc[block];
  const stack = path.basename(path.dirname(file));
  fs.mkdirSync(path.join(root, stack));
  fs.writeFileSync(path.join(root, stack, 'cdk.tf.json'), JSON.stringify(doc, null, 2));
}
EOF

set +e
"$CHECKOV" -d "$scan_root" --framework terraform_json --config-file .checkov.yaml 2>&1 | tee "$scan_root/checkov.log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^Passed checks:' "$scan_root/checkov.log" || true)
if [ -z "$summary" ]; then
  echo "scan: checkov printed no summary" >&2; exit 1
fi
if grep -qE 'Parsing errors: [1-9]' <<<"$summary"; then
  echo "scan: checkov could not parse the synthesized stack; its checks did not run" >&2; exit 1
fi
if grep -qE '^Passed checks: 0,' <<<"$summary"; then
  echo "scan: checkov ran no checks" >&2; exit 1
fi
skips=$(sed -n '/^skip-check:/,/^[^ ]/p' .checkov.yaml | sed -n 's/^ *- *\(CKV[A-Z0-9_]*\).*/\1/p' | tr '\n' ' ')
echo "scan: not run, by design (reasons in .checkov.yaml): ${skips% }"
exit "$status"
