// kube-play-overlay.mjs MANIFESTS-DIR - print the load balancer's ConfigMap and
// Deployment from MANIFESTS-DIR as `podman kube play` can run them on a
// test host, changing only what podman or the host cannot give as a cluster
// would (each change is named below).  Settings from the environment:
//   NODE_NETNS   the test's node namespace file (for the hostPath /proc/1/ns/net)
//   API_HOST, API_PORT, API_CA, API_TOKEN, API_NAMESPACE
//                the fake API server and what the service account holds
//                (API_NAMESPACE: the load balancer's own namespace; the
//                backends' comes from the ConfigMap, unchanged)
//   TARGET_PORT  the test's web pods' port
//   NAME         the Deployment's name, unique to the test run
// The pod runs with hostNetwork in whatever namespace podman is started in
// (nsenter --net=...): podman 4.3 cannot give a pod a namespace by path.
import { readFileSync } from "node:fs";
import { parseAllDocuments, stringify } from "yaml";

const dir = process.argv[2];
const need = (name) => {
    const v = process.env[name];
    if (!v) {
        console.error(`kube-play-overlay.mjs: ${name} is not set`);
        process.exit(2);
    }
    return v;
};

const load = (file) =>
    parseAllDocuments(readFileSync(`${dir}/${file}`, "utf8"))
        .map((d) => d.toJS())
        .filter(Boolean);
const config = load("20-config.yaml").find((o) => o.kind === "ConfigMap" && o.metadata.name === "ipvs-lb");
const deploy = load("30-loadbalancer.yaml").find((o) => o.kind === "Deployment");
if (!config || !deploy) {
    console.error("kube-play-overlay.mjs: no ConfigMap ipvs-lb or Deployment in " + dir);
    process.exit(1);
}

// a name of the test's own, so that it never meets another run's pod
deploy.metadata.name = need("NAME");
// the test's web pods listen elsewhere than the sample's
config.data["target-port"] = need("TARGET_PORT");

const spec = deploy.spec.template.spec;
// podman 4.3 removes a "once" init container while it may still be running
// and fails the whole pod; "always" keeps it, as the kubelet does.  podman
// reads a Deployment's annotations, not its template's.
deploy.metadata.annotations = {
    ...deploy.metadata.annotations,
    "io.podman.annotations.init.container.type": "always",
};
// podman: a pod's namespace cannot be given by path; the test starts podman
// inside the namespace the pod is to have
spec.hostNetwork = true;
// podman: no projected volumes and no service account tokens; a ConfigMap
// of the same three files takes the place of the manifest's token volume,
// so the manifest's own mounts decide which container sees them
const SA_VOLUME = "kube-api-access";
if (!spec.volumes.some((v) => v.name === SA_VOLUME)) {
    console.error(`kube-play-overlay.mjs: the Deployment has no volume ${SA_VOLUME} to stand in for`);
    process.exit(1);
}
const sa = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "serviceaccount", namespace: deploy.metadata.namespace },
    data: {
        token: readFileSync(need("API_TOKEN"), "utf8"),
        "ca.crt": readFileSync(need("API_CA"), "utf8"),
        namespace: need("API_NAMESPACE"),
    },
};
spec.volumes = spec.volumes.map((v) => {
    // the test's node is a namespace of its own, not the host's init process's
    if (v.name === "node-netns") return { ...v, hostPath: { ...v.hostPath, path: need("NODE_NETNS") } };
    if (v.name === SA_VOLUME) return { name: v.name, configMap: { name: "serviceaccount" } };
    // A test may not depend on host paths it did not create, nor create
    // them: a fresh machine has no /lib/modules (podman then refuses the
    // pod), and the host kernel has no IPVS to load anyway (the modules
    // step does not run here).  An empty volume keeps the mount.
    if (v.hostPath) return { name: v.name, emptyDir: {} };
    return v;
});
// setenv C NAME VALUE: the container's NAME is VALUE, once
const setenv = (c, name, value) => {
    c.env = [...c.env.filter((e) => e.name !== name), { name, value }];
};
for (const c of [...spec.initContainers, ...spec.containers]) {
    // podman turns ports into port mappings, which a host-network pod cannot have
    delete c.ports;
    // podman refuses status.podIP / status.hostIP: the helper discovers them
    c.env = (c.env ?? []).filter((e) => !e.valueFrom?.fieldRef);
    // the host kernel has no IPVS: only the step it can do, and keepalived
    // without its checker (the testbed's VM runs all of it)
    if (c.name === "ipvs" || c.name === "prepare") setenv(c, "IPVS_PREPARE", "forward");
    if (c.name === "ipvs") {
        setenv(c, "KEEPALIVED_OPTS", "-P");
        // nor a table for /readyz's kernel check: first sync and keepalived only
        setenv(c, "IPVS_CONTROLLER_SERVING_CHECK", "none");
        // what the kubelet gives every pod
        setenv(c, "KUBERNETES_SERVICE_HOST", need("API_HOST"));
        setenv(c, "KUBERNETES_SERVICE_PORT", need("API_PORT"));
        // podman runs httpGet probes with curl inside the container, which
        // the image does not have; the test asks /healthz and /readyz itself
        // (and a probe naming the port "metrics" would have lost its port)
        delete c.livenessProbe;
        delete c.readinessProbe;
    }
}
process.stdout.write([config, sa, deploy].map((o) => stringify(o)).join("---\n"));
