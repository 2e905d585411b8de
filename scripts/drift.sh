#!/usr/bin/env bash
# Drift check: synthesize, then `terraform plan -detailed-exitcode` against the real state.
# Exit 0: no drift. Exit 2: drift (a readable summary is printed). Anything else: error.
# Needs terraform (the version in .terraform-version), AWS credentials, and the remote
# state backend configured in your spigot.config.json ("backend": {"type": "s3", ...}).
set -uo pipefail
cd "$(dirname "$0")/.."

command -v terraform >/dev/null || { echo "drift: terraform is not installed (want $(cat .terraform-version); tfenv install reads .terraform-version)" >&2; exit 1; }
want=$(cat .terraform-version)
have=$(terraform version -json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).terraform_version)}catch{console.log("")}})')
[ "$have" = "$want" ] || echo "drift: warning: terraform $have is running, .terraform-version says $want" >&2

npm run --silent synth || { echo "drift: synth failed" >&2; exit 1; }
stack_dir="cdktf.out/stacks/$(ls cdktf.out/stacks | head -n 1)"
cd "$stack_dir"
terraform init -input=false -no-color >/dev/null || { echo "drift: terraform init failed (credentials? backend?)" >&2; exit 1; }
terraform plan -detailed-exitcode -input=false -lock=false -no-color -out=drift.tfplan >plan.log 2>&1
status=$?
case $status in
  0) echo "drift: none. The deployed stack matches the code." ;;
  2)
    echo "drift: the deployed stack differs from the code:"
    terraform show -no-color drift.tfplan | grep -E '^\s+# .* (will|must) be' || true
    grep -E '^Plan:' plan.log || true
    ;;
  *) echo "drift: terraform plan failed:" >&2; tail -n 30 plan.log >&2 ;;
esac
exit $status
