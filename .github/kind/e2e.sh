#!/usr/bin/env bash
# The steps of .github/workflows/kind.yaml that take more than a line: `.github/kind/e2e.sh STEP`.
# Runs on the GitHub runner against the kind cluster of the workflow (kubectl's context), with
# the workflow's environment: the add-ons' versions, REGISTRY, TAG, TAG_NEXT, NAMESPACE, HOST,
# CLUSTER. Every wait is bounded; every check says what it expected and what it saw.
# Reports (rendered manifests, pages, the rollout watches, diagnostics) go to $WORK, which the
# workflow uploads.
set -euo pipefail
cd "$(dirname "$0")/../.."

# deploy/overlays/prod + deploy/components/gateway-api (its kustomization says why)
OVERLAY=.github/kind/prod-gateway
WORK="${RUNNER_TEMP:-/tmp}/kind-e2e"
MONSTERSTACK=.venv/bin/monsterstack
PYTHON=.venv/bin/python
INGRESS_URL=http://127.0.0.1 # ingress-nginx's hostPort 80, mapped by deploy/kind/cluster.yaml
GATEWAY=monsterstack         # the Gateway of deploy/components/gateway-api
GATEWAY_NS=envoy-gateway-system
PROBE_NS=np-probe # a namespace of no policy, for the pods that probe from outside the app
mkdir -p "$WORK"

say() { printf '\n== %s\n' "$*"; }
fail() {
  printf '::error::%s\n' "$*" >&2
  exit 1
}

# until_ok SECONDS COMMAND...: COMMAND every 3 s until it succeeds, for at most SECONDS.
until_ok() {
  local limit=$1 deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "still failing after ${limit} s: $*" >&2
      return 1
    fi
    sleep 3
  done
}

# ---- the cluster's add-ons ----

addons() {
  say "ingress-nginx $INGRESS_NGINX_VERSION (its last release: the project was retired on 2026-03-24)"
  kubectl apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/$INGRESS_NGINX_VERSION/deploy/static/provider/kind/deploy.yaml"

  say "Gateway API $GATEWAY_API_VERSION CRDs (standard channel)"
  kubectl apply --server-side -f "https://github.com/kubernetes-sigs/gateway-api/releases/download/$GATEWAY_API_VERSION/standard-install.yaml"

  say "Envoy Gateway $ENVOY_GATEWAY_VERSION: its own CRDs, then the controller (crds.enabled=false: the Gateway API's are above)"
  helm template eg-crds oci://docker.io/envoyproxy/gateway-crds-helm \
    --version "$ENVOY_GATEWAY_VERSION" \
    --set crds.gatewayAPI.enabled=false --set crds.envoyGateway.enabled=true \
    >"$WORK/envoy-gateway-crds.yaml"
  kubectl apply --server-side -f "$WORK/envoy-gateway-crds.yaml"
  helm install eg oci://docker.io/envoyproxy/gateway-helm --version "$ENVOY_GATEWAY_VERSION" \
    --namespace "$GATEWAY_NS" --create-namespace --set crds.enabled=false --wait --timeout 5m
  kubectl apply -f .github/kind/gatewayclass.yaml

  say "metrics-server $METRICS_SERVER_VERSION (the HorizontalPodAutoscalers' CPU figures)"
  kubectl apply -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/$METRICS_SERVER_VERSION/components.yaml"
  # kind's kubelets serve self-signed certificates
  kubectl -n kube-system patch deployment metrics-server --type=json -p \
    '[{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--kubelet-insecure-tls"}]'

  say "waiting for them"
  kubectl -n ingress-nginx rollout status deploy/ingress-nginx-controller --timeout=300s
  kubectl wait --for=condition=Accepted gatewayclass/eg --timeout=120s
  kubectl -n kube-system rollout status deploy/metrics-server --timeout=300s
}

# ---- deploying ----

# render TAG: the overlay with our images at $REGISTRY/monsterstack-<service>:TAG, as
# `monsterstack manifests` renders an overlay (it takes names only; this is a folder); its path.
render() {
  local out="$WORK/prod-$1.yaml"
  "$PYTHON" -c '
import sys
from pathlib import Path

from monsterstack.kit import render_manifests

sys.stdout.write(render_manifests(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
' "$REGISTRY" "$1" "$OVERLAY" >"$out"
  echo "$out"
}

# apply TAG: the overlay applied with that tag, and every Deployment rolled out.
apply() {
  local manifests
  manifests=$(render "$1")
  say "the prod overlay + Gateway API, images $REGISTRY/monsterstack-*:$1"
  # the first time, ingress-nginx's admission webhook may not answer yet (its certificate is
  # patched in by a Job that leaves no trace: ttlSecondsAfterFinished 0): retried
  until_ok 180 kubectl apply -f "$manifests"
  for deploy in redis imagebackend frontend; do
    kubectl -n "$NAMESPACE" rollout status "deploy/$deploy" --timeout=300s
  done
}

deploy() {
  apply "$TAG"
  say "the Gateway and its route accepted, the route's backend resolved"
  kubectl -n "$NAMESPACE" wait --for=condition=Accepted "gateway/$GATEWAY" --timeout=180s
  kubectl -n "$NAMESPACE" wait httproute/monsterstack --timeout=180s \
    --for=jsonpath='{.status.parents[0].conditions[?(@.type=="ResolvedRefs")].status}'=True
  # Envoy Gateway creates the proxy's Deployment once it has accepted the Gateway
  until_ok 180 envoy_available
}

envoy_available() {
  kubectl -n "$GATEWAY_NS" wait deployment --for=condition=Available --timeout=10s \
    -l "gateway.envoyproxy.io/owning-gateway-name=$GATEWAY,gateway.envoyproxy.io/owning-gateway-namespace=$NAMESPACE"
}

# ---- the autoscalers and the disruption budgets ----

hpa_reads_cpu() {
  local cpu
  cpu=$(kubectl -n "$NAMESPACE" get hpa "$1" \
    -o jsonpath='{.status.currentMetrics[0].resource.current.averageUtilization}')
  [ -n "$cpu" ] && echo "hpa/$1 reads CPU: ${cpu}% of the requests"
}

at_floor() { # at_floor NAME: the Deployment has the HPA's minReplicas, all ready
  local floor ready
  floor=$(kubectl -n "$NAMESPACE" get hpa "$1" -o jsonpath='{.spec.minReplicas}')
  ready=$(kubectl -n "$NAMESPACE" get deploy "$1" -o jsonpath='{.status.readyReplicas}')
  [ "${ready:-0}" -ge "$floor" ] && echo "deploy/$1: $ready ready (floor $floor)"
}

autoscaling() {
  say "the HorizontalPodAutoscalers raise the Deployments to their floor and read CPU from metrics-server"
  for hpa in imagebackend frontend; do
    until_ok 300 at_floor "$hpa"
    until_ok 300 hpa_reads_cpu "$hpa"
  done
  kubectl -n "$NAMESPACE" get hpa,pdb,deploy
  say "the PodDisruptionBudgets allow one voluntary disruption with every pod ready"
  local budget
  for pdb in imagebackend frontend; do
    budget=$(kubectl -n "$NAMESPACE" get pdb "$pdb" -o jsonpath='{.status.disruptionsAllowed}')
    [ "${budget:-0}" -ge 1 ] || fail "pdb/$pdb allows ${budget:-no} disruption with every pod ready"
  done
}

# ---- the two exposures ----

# The Envoy proxy of our Gateway: its Service is a LoadBalancer (no balancer on kind), so its
# NodePort on the node's address, which the runner reaches on kind's Docker network.
gateway_url() {
  local node port
  node=$(kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
  port=$(kubectl -n "$GATEWAY_NS" get service -o jsonpath='{.items[0].spec.ports[?(@.port==80)].nodePort}' \
    -l "gateway.envoyproxy.io/owning-gateway-name=$GATEWAY,gateway.envoyproxy.io/owning-gateway-namespace=$NAMESPACE")
  [ -n "$node" ] && [ -n "$port" ] || fail "no NodePort for the Gateway's Envoy Service"
  echo "http://$node:$port"
}

url_of() { # url_of ingress|gateway
  case $1 in
  ingress) echo "$INGRESS_URL" ;;
  gateway) gateway_url ;;
  *) fail "no exposure $1" ;;
  esac
}

# page_and_picture NAME: the page from version $TAG, its first picture a PNG, /healthz answers.
page_and_picture() {
  local url page="$WORK/page-$1.html" headers="$WORK/page-$1.headers" picture="$WORK/monster-$1.png" image
  url=$(url_of "$1")
  until_ok 180 curl -fsS -H "Host: $HOST" -D "$headers" -o "$page" "$url/"
  grep -qi "^x-monsterstack-version: $TAG" "$headers" ||
    fail "$1: the page is not from version $TAG: $(tr -d '\r' <"$headers")"
  image=$(grep -m 1 -o 'src="/monster/[^"]*"' "$page" | cut -d '"' -f 2 | sed 's/&amp;/\&/g')
  [ -n "$image" ] || fail "$1: no /monster/ picture in the page"
  curl -fsS -H "Host: $HOST" -o "$picture" "$url$image"
  [ "$(head -c 8 "$picture" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "$1: $image is not a PNG"
  curl -fsS -H "Host: $HOST" "$url/healthz" >/dev/null
  echo "$1 ($url): the page of $TAG and $image, a PNG of $(wc -c <"$picture") bytes"
}

exposures() {
  say "through the Ingress (ingress-nginx) and through the Gateway (Envoy Gateway)"
  page_and_picture ingress
  page_and_picture gateway
}

# ---- NetworkPolicies, tested from the pods ----

# A TCP connection from the pod; exit 7 (not kubectl's 1) when it cannot be opened, so that a
# failed `kubectl exec` never passes for a refused connection.
PROBE='
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    socket.create_connection((host, port), timeout=5).close()
except OSError as exc:
    print(f"{host}:{port} cannot be reached ({exc!r})")
    sys.exit(7)
print(f"{host}:{port} reached")
'
# an HTTP GET from the pod: its status
GET='
import sys, urllib.request
print(sys.argv[1], urllib.request.urlopen(sys.argv[1], timeout=5).status)
'

from_pod() { # from_pod DEPLOYMENT HOST PORT
  kubectl -n "$NAMESPACE" exec "deploy/$1" -- python3 -c "$PROBE" "$2" "$3"
}

pod_ended() {
  case $(kubectl -n "$PROBE_NS" get pod "$1" -o jsonpath='{.status.phase}') in
  Succeeded | Failed) return 0 ;;
  *) return 1 ;;
  esac
}

from_outside() { # from_outside NAME HOST PORT: the probe in a pod of $PROBE_NS; its exit status
  kubectl -n "$PROBE_NS" run "$1" --image="$REGISTRY/monsterstack-frontend:$TAG" --restart=Never \
    --command -- python3 -c "$PROBE" "$2" "$3" >/dev/null
  until_ok 120 pod_ended "$1"
  kubectl -n "$PROBE_NS" logs "$1"
  return "$(kubectl -n "$PROBE_NS" get pod "$1" \
    -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')"
}

allowed() { # allowed WHAT COMMAND...
  local what=$1
  shift
  "$@" || fail "$what: should be allowed, was not"
  echo "allowed, as it should be: $what"
}

refused() { # refused WHAT COMMAND...: the command's probe must exit 7
  local what=$1 status=0
  shift
  "$@" || status=$?
  [ "$status" = 7 ] || fail "$what: should be refused by the NetworkPolicies (probe exit $status)"
  echo "refused, as it should be: $what"
}

network_policies() {
  local redis_pod redis_svc imagebackend_svc frontend_svc controller_svc
  redis_pod=$(kubectl -n "$NAMESPACE" get pod -l partie=redis -o jsonpath='{.items[0].status.podIP}')
  redis_svc=$(kubectl -n "$NAMESPACE" get service redis -o jsonpath='{.spec.clusterIP}')
  imagebackend_svc=$(kubectl -n "$NAMESPACE" get service imagebackend -o jsonpath='{.spec.clusterIP}')
  frontend_svc=$(kubectl -n "$NAMESPACE" get service frontend -o jsonpath='{.spec.clusterIP}')
  controller_svc=$(kubectl -n ingress-nginx get service ingress-nginx-controller -o jsonpath='{.spec.clusterIP}')

  say "from the app's pods (addresses, not names: the imagebackend may not even ask DNS)"
  allowed "frontend -> imagebackend (GET /livez by the Service's name)" \
    kubectl -n "$NAMESPACE" exec deploy/frontend -- python3 -c "$GET" http://imagebackend:8080/livez
  allowed "frontend -> redis $redis_svc:6379" from_pod frontend "$redis_svc" 6379
  allowed "frontend -> redis pod $redis_pod:6379" from_pod frontend "$redis_pod" 6379
  refused "imagebackend -> redis $redis_svc:6379" from_pod imagebackend "$redis_svc" 6379
  refused "imagebackend -> redis pod $redis_pod:6379" from_pod imagebackend "$redis_pod" 6379

  say "from a pod of another namespace: only the ingress controller and the Gateway reach the app"
  kubectl create namespace "$PROBE_NS" --dry-run=client -o yaml | kubectl apply -f -
  allowed "outsider -> ingress-nginx $controller_svc:80 (the probe pod itself works)" \
    from_outside to-controller "$controller_svc" 80
  refused "outsider -> frontend $frontend_svc:5000" from_outside to-frontend "$frontend_svc" 5000
  refused "outsider -> imagebackend $imagebackend_svc:8080" \
    from_outside to-imagebackend "$imagebackend_svc" 8080
  refused "outsider -> redis $redis_svc:6379" from_outside to-redis "$redis_svc" 6379
}

# ---- Pod Security admission ----

probe_pod() { # probe_pod NAME PRIVILEGED: a pod of our image, privileged or as restricted asks
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: probe
      image: $REGISTRY/monsterstack-frontend:$TAG
      securityContext:
        privileged: $2
        allowPrivilegeEscalation: $2
        capabilities:
          drop: [ALL]
EOF
}

pod_security() {
  local answer
  say "the namespace $NAMESPACE enforces the restricted Pod Security Standard"
  kubectl get namespace "$NAMESPACE" --show-labels
  # the control: the same pod, unprivileged, is admitted (server-side dry run: admission runs,
  # nothing is created), so the refusal below is the privilege's
  probe_pod pss-restricted false | kubectl -n "$NAMESPACE" apply --dry-run=server -f - ||
    fail "a pod that meets the restricted profile was refused"
  if answer=$(probe_pod pss-privileged true | kubectl -n "$NAMESPACE" apply -f - 2>&1); then
    kubectl -n "$NAMESPACE" delete pod pss-privileged --wait=false || true
    fail "a privileged pod was admitted into $NAMESPACE: $answer"
  fi
  echo "$answer"
  grep -q 'violates PodSecurity "restricted:latest"' <<<"$answer" ||
    fail "the privileged pod was refused, but not by Pod Security admission"
  grep -q 'privileged' <<<"$answer" || fail "Pod Security's refusal does not name the privilege"
  echo "refused, as it should be: a privileged pod in $NAMESPACE"
}

# ---- a rolling update under watch ----

watch_report() { # watch_report NAME: zero errors and timeouts, $TAG then $TAG_NEXT answered
  local file="$WORK/rollout-$1.txt" errors timeouts old new
  sed -n '/^[0-9]* requests$/,$p' "$file"
  errors=$(awk '$1 == "errors" {print $2}' "$file")
  timeouts=$(awk '$1 == "timeouts" {print $2}' "$file")
  old=$(awk -v v="$TAG" '$1 == v {print $2}' "$file")
  new=$(awk -v v="$TAG_NEXT" '$1 == v {print $2}' "$file")
  [ "$errors" = 0 ] && [ "$timeouts" = 0 ] ||
    fail "$1: ${errors:-?} errors and ${timeouts:-?} timeouts during the rolling update"
  [ "${old:-0}" -gt 0 ] && [ "${new:-0}" -gt 0 ] ||
    fail "$1: expected answers from $TAG, then from $TAG_NEXT (saw ${old:-0} and ${new:-0})"
  grep -q "switch: $TAG_NEXT first answered" "$file" || fail "$1: $TAG_NEXT did not answer last"
  echo "$1: no failed request while $TAG_NEXT replaced $TAG"
}

rollout() {
  local pids=() name url
  say "monsterstack rollout watch through both exposures while $TAG_NEXT replaces $TAG"
  for name in ingress gateway; do
    url=$(url_of "$name")
    "$MONSTERSTACK" rollout watch "$url/" -H "Host: $HOST" --rate 5 \
      --duration 600 --timeout 5 --out "$WORK/rollout-$name.svg" >"$WORK/rollout-$name.txt" 2>&1 &
    pids+=("$!")
  done
  sleep 15 # the watches see the old version first
  apply "$TAG_NEXT"
  sleep 15 # and only the new one at the end (SHUTDOWN_DELAY is 5 s)
  kill -TERM "${pids[@]}" # the watch stops on SIGTERM and prints its report
  for pid in "${pids[@]}"; do
    wait "$pid" || true # its status says only whether anything answered: the reports below tell
  done
  watch_report ingress
  watch_report gateway
}

# ---- a ConfigMap change ----

new_title() { # new_title URL TITLE: ten answers in a row with the new title
  local page
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    page=$(curl -fsS -H "Host: $HOST" "$1/") || return 1
    [[ $page == *"<title>$2</title>"* ]] || return 1
  done
}

title() {
  local title="monsterstack on kind" name url
  say "APP_TITLE=$title in the ConfigMap, as deploy/README.md's step 6: the pods roll by themselves"
  grep -q '^ *- APP_TITLE=monsterstack$' deploy/base/kustomization.yaml ||
    fail "deploy/base/kustomization.yaml has no 'APP_TITLE=monsterstack' line to change"
  sed -i "s/^\( *- APP_TITLE=\)monsterstack\$/\1$title/" deploy/base/kustomization.yaml
  apply "$TAG_NEXT"
  # after the rollout, old pods still drain for SHUTDOWN_DELAY: retried, within a bound
  for name in ingress gateway; do
    url=$(url_of "$name")
    until_ok 120 new_title "$url" "$title"
    echo "$name: the title is '$title'"
  done
}

# ---- when something failed ----

diagnostics() {
  local out="$WORK/diagnostics" kind
  mkdir -p "$out"
  kubectl get events -A --sort-by=.lastTimestamp >"$out/events.txt" 2>&1 || true
  tail -n 60 "$out/events.txt" || true
  for kind in nodes all ingress gateways httproutes networkpolicies hpa pdb configmaps; do
    kubectl get "$kind" -A -o wide >"$out/get-$kind.txt" 2>&1 || true
  done
  kubectl get gateways,httproutes -A -o yaml >"$out/gateway-api.yaml" 2>&1 || true
  kubectl -n "$NAMESPACE" describe pods >"$out/pods.txt" 2>&1 || true
  kubectl -n "$NAMESPACE" logs --all-containers --prefix --tail=500 -l app=monsterstack \
    >"$out/monsterstack.log" 2>&1 || true
  kubectl -n ingress-nginx logs deploy/ingress-nginx-controller --tail=500 \
    >"$out/ingress-nginx.log" 2>&1 || true
  kubectl -n "$GATEWAY_NS" logs deploy/envoy-gateway --tail=500 >"$out/envoy-gateway.log" 2>&1 || true
  kubectl -n "$GATEWAY_NS" logs --all-containers --prefix --tail=500 \
    -l app.kubernetes.io/component=proxy >"$out/envoy-proxy.log" 2>&1 || true
  kubectl -n kube-system logs deploy/metrics-server --tail=200 >"$out/metrics-server.log" 2>&1 || true
  kind export logs --name "$CLUSTER" "$out/kind" >"$out/kind-export.txt" 2>&1 || true
  echo "diagnostics in $out: $(find "$out" -type f | wc -l) files"
}

if [ "${1:-}" != diagnostics ]; then
  : "${REGISTRY:?}" "${TAG:?}" "${TAG_NEXT:?}" "${NAMESPACE:?}" "${HOST:?}"
fi
case ${1:-} in
addons) addons ;;
deploy) deploy ;;
autoscaling) autoscaling ;;
exposures) exposures ;;
network-policies) network_policies ;;
pod-security) pod_security ;;
rollout) rollout ;;
title) title ;;
diagnostics) diagnostics ;;
*) fail "usage: $0 addons|deploy|autoscaling|exposures|network-policies|pod-security|rollout|title|diagnostics" ;;
esac
