#!/bin/sh
# /usr/local/bin/kube-proxy in the offline e2e kube-proxy image (registry-less
# sandbox only; see e2e/offline/README.md). Like upstream's iptables-wrapper:
# use whichever iptables backend (legacy or nft) already holds the node's
# rules, so kube-proxy and the node agree, then run the real kube-proxy.
legacy=$( (iptables-legacy-save || true; ip6tables-legacy-save || true) 2>/dev/null | grep -c '^-' )
nft=$( (iptables-nft-save || true; ip6tables-nft-save || true) 2>/dev/null | grep -c '^-' )
if [ "${legacy:-0}" -gt "${nft:-0}" ]; then mode=legacy; else mode=nft; fi
for t in iptables ip6tables; do
  update-alternatives --set "$t" "/usr/sbin/$t-$mode" >/dev/null 2>&1 || true
done
exec /usr/local/bin/kube-proxy.real "$@"
