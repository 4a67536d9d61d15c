// check.mjs FILE... - validate Kubernetes manifests offline, as the API
// server would with field validation set to Strict:
//  1. every document is a known apiVersion/kind and passes the Kubernetes
//     OpenAPI schema (kubernetes-models: types, required fields, formats);
//  2. no document carries a field the schema does not define (a misspelled
//     `comand:` is silently dropped by kubectl's default validation and by
//     the schema check, so it is found here, from the field lists that
//     @kubernetes/client-node generates from the same OpenAPI document).
//  3. Pod Security: pods in a namespace labelled
//     pod-security.kubernetes.io/enforce baseline or restricted meet that
//     level (the table POD_SECURITY, from the Pod Security Standards); a
//     backends' namespace that enforces privileged only for flow mode's
//     web-init container is held to the level it warns and audits at, with
//     web-init's NET_ADMIN and root excepted (WEB_INIT_EXCEPTIONS);
//  4. least privilege of the load balancer (the table LB_CONTAINERS): every
//     container under the runtime's seccomp filter, only the capabilities
//     each needs, the service-account token only where the API is read, and
//     a Role in the backends' namespace letting it read what it watches;
//  5. the mode (the ConfigMap's `mode`): read by the load balancer's
//     containers, flow mode's constraints on the ConfigMap, and the web
//     pods' web-init init container agreeing with the ConfigMap's mode and
//     virtual address.
// Prints one line per problem, "FILE: KIND NAME: PATH: what", and exits 1
// when there is any; exits 0 and prints a summary otherwise.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as k8s from "@kubernetes/client-node";

const problems = [];
const objects = []; // { where, obj } of every valid-looking object
const configMaps = new Map(); // "namespace/name" -> data
let checked = 0;

// "apps/v1" + "Deployment" -> the kubernetes-models module and class
async function schemaModel(apiVersion, kind) {
    const mod = `kubernetes-models/${apiVersion}/${kind}`;
    try {
        const m = await import(mod);
        return m[kind];
    } catch {
        return undefined;
    }
}

// "apps/v1" + "Deployment" -> client-node's V1Deployment
function fieldModel(apiVersion, kind) {
    const version = apiVersion.split("/").pop();
    return k8s[version[0].toUpperCase() + version.slice(1) + kind];
}

// Walk VALUE against client-node type TYPE, reporting unknown fields.
function strict(value, type, path, report) {
    if (value === null || value === undefined) return;
    let m;
    if ((m = /^Array<(.+)>$/.exec(type))) {
        if (Array.isArray(value)) value.forEach((v, i) => strict(v, m[1], `${path}[${i}]`, report));
        return;
    }
    if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
        if (typeof value === "object" && !Array.isArray(value))
            for (const [k, v] of Object.entries(value)) strict(v, m[1], `${path}.${k}`, report);
        return;
    }
    const cls = k8s[type];
    if (typeof cls !== "function" || typeof cls.getAttributeTypeMap !== "function") return; // a scalar
    if (typeof value !== "object" || Array.isArray(value)) return; // the schema check reports it
    const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
    for (const [k, v] of Object.entries(value)) {
        const p = path ? `${path}.${k}` : k;
        if (!attrs.has(k)) report(`${p}: unknown field "${k}" (${type} has no such field)`);
        else strict(v, attrs.get(k), p, report);
    }
}

for (const file of process.argv.slice(2)) {
    let docs;
    try {
        docs = parseAllDocuments(readFileSync(file, "utf8"));
    } catch (e) {
        problems.push(`${file}: cannot read: ${e.message}`);
        continue;
    }
    for (const [i, doc] of docs.entries()) {
        if (doc.errors.length) {
            problems.push(`${file}: document ${i + 1}: YAML: ${doc.errors[0].message.split("\n")[0]}`);
            continue;
        }
        const obj = doc.toJS();
        if (obj === null || obj === undefined) continue; // an empty document
        const where = `${file}: ${obj.kind ?? "?"} ${obj.metadata?.name ?? `(document ${i + 1})`}`;
        const report = (msg) => problems.push(`${where}: ${msg}`);
        if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
            report("apiVersion and kind must both be set");
            continue;
        }
        const Model = await schemaModel(obj.apiVersion, obj.kind);
        const root = fieldModel(obj.apiVersion, obj.kind);
        if (!Model || !root) {
            report(`unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
            continue;
        }
        try {
            new Model(obj).validate();
        } catch (e) {
            for (const line of String(e.message).split("\n")) report(`schema: ${line.replace(/^data\//, "").replace(/^data /, "")}`);
        }
        strict(obj, root.name, "", report);
        objects.push({ where, obj });
        if (obj.kind === "ConfigMap")
            configMaps.set(`${obj.metadata?.namespace ?? "default"}/${obj.metadata?.name}`, obj.data ?? {});
        checked++;
    }
}

// References between the objects that the API server does not check but
// the kubelet does, when the pod starts: a missing ConfigMap key or volume
// leaves the pod in CreateContainerConfigError.
for (const { where, obj } of objects) {
    const spec = obj.spec?.template?.spec ?? (obj.kind === "Pod" ? obj.spec : undefined);
    if (!spec) continue;
    const ns = obj.metadata?.namespace ?? "default";
    const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
    for (const v of spec.volumes ?? []) {
        if (v.configMap && !configMaps.has(`${ns}/${v.configMap.name}`) && !v.configMap.optional)
            problems.push(`${where}: volume ${v.name}: ConfigMap ${v.configMap.name} is not among these manifests`);
    }
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        for (const m of c.volumeMounts ?? [])
            if (!volumes.has(m.name)) problems.push(`${where}: container ${c.name}: volumeMount ${m.name} names no volume`);
        for (const e of c.env ?? []) {
            const ref = e.valueFrom?.configMapKeyRef;
            if (!ref || ref.optional) continue;
            const data = configMaps.get(`${ns}/${ref.name}`);
            if (!data) problems.push(`${where}: container ${c.name}: env ${e.name}: ConfigMap ${ref.name} is not among these manifests`);
            else if (!(ref.key in data)) problems.push(`${where}: container ${c.name}: env ${e.name}: ConfigMap ${ref.name} has no key "${ref.key}"`);
        }
    }
}

// ---------------------------------------------------------------- Pod Security
const namespaces = new Map(); // name -> labels
for (const { obj } of objects)
    if (obj.kind === "Namespace") namespaces.set(obj.metadata?.name, obj.metadata?.labels ?? {});
const podSpecOf = (obj) => obj.spec?.template?.spec ?? (obj.kind === "Pod" ? obj.spec : undefined);
const containersOf = (spec) => [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
// the value a container runs with: its own setting, else the pod's
const eff = (spec, c, key) => c.securityContext?.[key] ?? spec.securityContext?.[key];
const LEVELS = ["privileged", "baseline", "restricted"];
const SAFE_SYSCTLS = new Set(["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"]);
const BASELINE_CAPS = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);
const RESTRICTED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
// Each rule: the lowest level that enforces it, and a check of one pod spec
// returning what violates it (one string per finding).
const perContainer = (spec, f) => containersOf(spec).flatMap((c) => {
    const why = f(c);
    return why ? [`container ${c.name}: ${why}`] : [];
});
const POD_SECURITY = [
    { level: "baseline", rule: "host namespaces",
      check: (s) => ["hostNetwork", "hostPID", "hostIPC"].filter((k) => s[k]).map((k) => `${k}: true`) },
    { level: "baseline", rule: "privileged containers",
      check: (s) => perContainer(s, (c) => c.securityContext?.privileged && "privileged: true") },
    { level: "baseline", rule: "capabilities (baseline)",
      check: (s) => perContainer(s, (c) => {
          const bad = (c.securityContext?.capabilities?.add ?? []).filter((k) => !BASELINE_CAPS.has(k));
          return bad.length > 0 && `adds ${bad.join(", ")}`;
      }) },
    { level: "baseline", rule: "hostPath volumes",
      check: (s) => (s.volumes ?? []).filter((v) => v.hostPath).map((v) => `volume ${v.name} is a hostPath`) },
    { level: "baseline", rule: "host ports",
      check: (s) => perContainer(s, (c) => (c.ports ?? []).some((p) => p.hostPort) && "uses a hostPort") },
    { level: "baseline", rule: "/proc mount",
      check: (s) => perContainer(s, (c) => (c.securityContext?.procMount ?? "Default") !== "Default" && "procMount is not Default") },
    { level: "baseline", rule: "seccomp (baseline)",
      check: (s) => perContainer(s, (c) => eff(s, c, "seccompProfile")?.type === "Unconfined" && "seccompProfile Unconfined") },
    { level: "baseline", rule: "sysctls",
      check: (s) => (s.securityContext?.sysctls ?? []).filter((x) => !SAFE_SYSCTLS.has(x.name)).map((x) => `unsafe sysctl ${x.name}`) },
    { level: "restricted", rule: "volume types",
      check: (s) => (s.volumes ?? []).filter((v) => !RESTRICTED_VOLUMES.some((t) => v[t])).map((v) => `volume ${v.name} is of a type restricted forbids`) },
    { level: "restricted", rule: "privilege escalation",
      check: (s) => perContainer(s, (c) => c.securityContext?.allowPrivilegeEscalation !== false && "allowPrivilegeEscalation is not false") },
    { level: "restricted", rule: "running as non-root",
      check: (s) => perContainer(s, (c) => eff(s, c, "runAsNonRoot") !== true && "runAsNonRoot is not true") },
    { level: "restricted", rule: "non-root user",
      check: (s) => perContainer(s, (c) => eff(s, c, "runAsUser") === 0 && "runAsUser is 0") },
    { level: "restricted", rule: "seccomp (restricted)",
      check: (s) => perContainer(s, (c) => !["RuntimeDefault", "Localhost"].includes(eff(s, c, "seccompProfile")?.type) &&
          "seccompProfile is neither RuntimeDefault nor Localhost") },
    { level: "restricted", rule: "capabilities (restricted)",
      check: (s) => perContainer(s, (c) => {
          const caps = c.securityContext?.capabilities ?? {};
          if (!(caps.drop ?? []).includes("ALL")) return "capabilities.drop lacks ALL";
          const bad = (caps.add ?? []).filter((k) => k !== "NET_BIND_SERVICE");
          return bad.length > 0 && `adds ${bad.join(", ")}`;
      }) },
];
// The load balancer's Deployment and namespace: the one namespace that
// needs privileged for itself.
const lb = objects.find(({ obj }) => obj.kind === "Deployment" && obj.metadata?.name === "ipvs-lb");
const lbNs = lb ? lb.obj.metadata?.namespace ?? "default" : undefined;
// web-init (ipvs-entrypoint web-init, flow mode's side of the web pods)
// needs NET_ADMIN, which only privileged admits, and root for the
// capability to be effective; nothing else beyond restricted.
const isWebInit = (c) => [...(c.command ?? []), ...(c.args ?? [])].some((a) => /(^|\s)web-init(\s|$)/.test(String(a)));
const WEB_INIT_EXCEPTIONS = ["adds NET_ADMIN", "runAsNonRoot is not true", "runAsUser is 0"];
for (const { where, obj } of objects) {
    const spec = podSpecOf(obj);
    if (!spec) continue;
    const ns = obj.metadata?.namespace ?? "default";
    const labels = namespaces.get(ns);
    if (!labels) {
        problems.push(`${where}: namespace ${ns} is not among these manifests (its Pod Security level is unknown)`);
        continue;
    }
    let level = labels["pod-security.kubernetes.io/enforce"];
    if (!LEVELS.includes(level)) {
        problems.push(`${where}: namespace ${ns} has no pod-security.kubernetes.io/enforce level`);
        continue;
    }
    // a backends' namespace enforcing privileged for web-init alone: the
    // level it warns and audits at (checked below) holds for the rest
    let excepted = new Set();
    const audited = labels["pod-security.kubernetes.io/audit"];
    if (level === "privileged" && ns !== lbNs && ["baseline", "restricted"].includes(audited)) {
        level = audited;
        excepted = new Set(containersOf(spec).filter(isWebInit)
            .flatMap((c) => WEB_INIT_EXCEPTIONS.map((why) => `container ${c.name}: ${why}`)));
    }
    for (const r of POD_SECURITY)
        if (LEVELS.indexOf(r.level) <= LEVELS.indexOf(level))
            for (const why of r.check(spec))
                if (!excepted.has(why)) problems.push(`${where}: Pod Security ${level} (${r.rule}): ${why}`);
}

// ---------------------------------------------------------------- the load balancer
// What each container of the load balancer may hold: capabilities added
// (privileged: only the init container), the service-account token (only
// the container that reads the API), the node's /lib/modules (only where
// modules are loaded), and IPVS_PREPARE steps (no modules where they
// cannot be loaded).
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const LB_CONTAINERS = {
    prepare: { privileged: true, caps: [], token: false, libModules: true, modules: true },
    ipvs: { privileged: false, caps: ["NET_ADMIN"], token: true, libModules: false, modules: false },
    exabgp: { privileged: false, caps: ["NET_ADMIN", "SYS_ADMIN", "SETPCAP"], token: false, libModules: false, modules: false },
};
if (!lb) problems.push("no Deployment ipvs-lb among these manifests");
else {
    const { where, obj } = lb;
    const spec = podSpecOf(obj);
    const ns = obj.metadata?.namespace ?? "default";
    const report = (msg) => problems.push(`${where}: ${msg}`);
    // only the load balancer needs a privileged namespace; the backends'
    // must be able to live under baseline or restricted, and enforce
    // privileged only for web-init, warning and auditing at the level the
    // rest of them meets (the Pod Security check above holds them to it)
    for (const [name, labels] of namespaces) {
        if (name === ns || labels["pod-security.kubernetes.io/enforce"] !== "privileged") continue;
        const [warn, audit] = ["warn", "audit"].map((k) => labels[`pod-security.kubernetes.io/${k}`]);
        if (!["baseline", "restricted"].includes(audit) || warn !== audit)
            problems.push(`Namespace ${name}: enforces Pod Security privileged but warns at ${warn ?? "nothing"} and audits at ${audit ?? "nothing"}; only the load balancer's namespace ${ns} needs privileged, a backends' namespace only for web-init's NET_ADMIN, warning and auditing at restricted (or baseline)`);
    }
    if (spec.automountServiceAccountToken !== false)
        report("automountServiceAccountToken is not false: every container would get the token");
    const vols = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
    // a volume that carries a service-account token, by itself or projected
    const isToken = (v) => v?.secret?.secretName?.includes("token") ||
        (v?.projected?.sources ?? []).some((x) => x.serviceAccountToken);
    const seen = new Set();
    for (const c of containersOf(spec)) {
        const want = LB_CONTAINERS[c.name];
        if (!want) { report(`container ${c.name} is not in the least-privilege table LB_CONTAINERS`); continue; }
        seen.add(c.name);
        const sc = c.securityContext ?? {};
        if (!["RuntimeDefault", "Localhost"].includes(eff(spec, c, "seccompProfile")?.type))
            report(`container ${c.name}: seccompProfile is not RuntimeDefault`);
        if (!!sc.privileged !== want.privileged) report(`container ${c.name}: privileged is ${!!sc.privileged}, want ${want.privileged}`);
        if (!want.privileged) {
            if (!(sc.capabilities?.drop ?? []).includes("ALL")) report(`container ${c.name}: capabilities.drop lacks ALL`);
            const extra = (sc.capabilities?.add ?? []).filter((k) => !want.caps.includes(k));
            if (extra.length) report(`container ${c.name}: adds ${extra.join(", ")} beyond ${want.caps.join(", ") || "none"}`);
            if (sc.allowPrivilegeEscalation !== false) report(`container ${c.name}: allowPrivilegeEscalation is not false`);
        }
        const mounts = c.volumeMounts ?? [];
        const tokenMounts = mounts.filter((m) => isToken(vols.get(m.name)) || m.mountPath?.startsWith(SA_DIR));
        if (tokenMounts.length && !want.token) report(`container ${c.name}: mounts the service-account token (${tokenMounts.map((m) => m.name).join(", ")}) but does not talk to the API`);
        if (want.token) {
            const m = mounts.find((m) => m.mountPath === SA_DIR);
            const srcs = vols.get(m?.name)?.projected?.sources ?? [];
            const has = [
                ["token", srcs.some((x) => x.serviceAccountToken?.path === "token")],
                ["ca.crt", srcs.some((x) => x.configMap?.name === "kube-root-ca.crt" && (x.configMap.items ?? []).some((i) => i.key === "ca.crt" && i.path === "ca.crt"))],
                ["namespace", srcs.some((x) => (x.downwardAPI?.items ?? []).some((i) => i.path === "namespace" && i.fieldRef?.fieldPath === "metadata.namespace"))],
            ].filter(([, ok]) => !ok).map(([f]) => f);
            if (!m) report(`container ${c.name}: no projected service-account volume at ${SA_DIR}`);
            else if (has.length) report(`container ${c.name}: the volume at ${SA_DIR} lacks ${has.join(", ")}`);
        }
        const libm = mounts.filter((m) => vols.get(m.name)?.hostPath?.path === "/lib/modules");
        if (libm.length && !want.libModules) report(`container ${c.name}: mounts the node's /lib/modules but loads no modules`);
        if (!want.modules) {
            const prep = (c.env ?? []).find((e) => e.name === "IPVS_PREPARE");
            if (c.image?.includes("/ipvs:") && (!prep || String(prep.value).split(",").includes("modules")))
                report(`container ${c.name}: IPVS_PREPARE ${prep ? `"${prep.value}" includes` : "unset runs"} the modules step, which it has no SYS_MODULE for`);
        }
    }
    for (const name of Object.keys(LB_CONTAINERS))
        if (!seen.has(name)) report(`container ${name} is missing`);

    // Make-before-break on deletion: the kubelet runs both preStop hooks at
    // once and sends each container SIGTERM when its own hook returned.
    // exabgp's hook (exabgp-helper cleanup) withdraws and reports it in
    // WITHDRAWN_FILE; ipvs's (ipvs-entrypoint prestop) waits for that file
    // in the same volume, then drains longer than exabgp does, so keepalived
    // (which empties IPVS as it exits) stops last; the grace period covers
    // the ipvs hook's bound and keepalived's stop.
    const byName = (n) => (spec.containers ?? []).find((c) => c.name === n);
    const envOf = (c, n, dflt) => { const e = (c?.env ?? []).find((x) => x.name === n); return e ? e.value : dflt; };
    const hook = (c) => (c?.lifecycle?.preStop?.exec?.command ?? []).join(" ");
    const [ipvsC, exabgpC] = [byName("ipvs"), byName("exabgp")];
    if (ipvsC && exabgpC) {
        if (!/\bipvs-entrypoint prestop$/.test(hook(ipvsC)))
            report(`container ipvs: preStop is "${hook(ipvsC)}", want ipvs-entrypoint prestop (else keepalived stops, emptying IPVS, while the pod is still announced)`);
        if (!/\bexabgp-helper cleanup$/.test(hook(exabgpC)))
            report(`container exabgp: preStop is "${hook(exabgpC)}", want exabgp-helper cleanup`);
        // the file each side names, as (volume, path inside it)
        const inVolume = (c, path) => {
            const m = (c.volumeMounts ?? []).filter((x) => path?.startsWith(`${x.mountPath.replace(/\/$/, "")}/`))
                .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
            return m ? `${m.name}:${path.slice(m.mountPath.replace(/\/$/, "").length)}` : undefined;
        };
        const told = envOf(exabgpC, "WITHDRAWN_FILE");
        const waited = envOf(ipvsC, "IPVS_WITHDRAWN_FILE", "/run/lb/withdrawn");
        const [a, b] = [inVolume(exabgpC, told), inVolume(ipvsC, waited)];
        if (!told) report("container exabgp: no WITHDRAWN_FILE: the ipvs container's preStop waits its whole timeout");
        else if (!a || a !== b || !vols.get(a.split(":")[0])?.emptyDir)
            report(`containers exabgp and ipvs: WITHDRAWN_FILE ${told} (${a ?? "no volume"}) and IPVS_WITHDRAWN_FILE ${waited} (${b ?? "no volume"}) are not the same file in a shared emptyDir`);
        const num = (v) => Number(v);
        const exDrain = num(envOf(exabgpC, "DRAIN_SECONDS", 2));
        const ipDrain = num(envOf(ipvsC, "IPVS_DRAIN_SECONDS", 3));
        const bound = num(envOf(ipvsC, "IPVS_WITHDRAW_TIMEOUT", 5));
        if (!(ipDrain > exDrain))
            report(`container ipvs: IPVS_DRAIN_SECONDS ${ipDrain} is not longer than exabgp's DRAIN_SECONDS ${exDrain}: IPVS would stop before the routes to it go`);
        const KEEPALIVED_STOP = 5; // ipvs-controller's wait before it kills keepalived
        const need = bound + ipDrain + KEEPALIVED_STOP + 2;
        const grace = spec.terminationGracePeriodSeconds ?? 30;
        if (!(grace >= need))
            report(`terminationGracePeriodSeconds ${grace} is less than ${need} (IPVS_WITHDRAW_TIMEOUT ${bound} + IPVS_DRAIN_SECONDS ${ipDrain} + keepalived's stop ${KEEPALIVED_STOP} + 2)`);
    }

    // The backends' namespace, from the ConfigMap key the ipvs container
    // reads into IPVS_CONTROLLER_NAMESPACE; a Role there, bound to the
    // pod's ServiceAccount, grants reading what the controller watches, and
    // no Role bound to it grants more than reading.
    const ipvs = (spec.containers ?? []).find((c) => c.name === "ipvs");
    const ref = ipvs?.env?.find((e) => e.name === "IPVS_CONTROLLER_NAMESPACE")?.valueFrom?.configMapKeyRef;
    const backendNs = ref ? configMaps.get(`${ns}/${ref.name}`)?.[ref.key] : undefined;
    const sa = spec.serviceAccountName ?? "default";
    if (!backendNs) report("container ipvs: IPVS_CONTROLLER_NAMESPACE does not come from a ConfigMap key among these manifests");
    else {
        const roles = new Map(objects.filter(({ obj: o }) => o.kind === "Role").map(({ obj: o }) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
        const bound = objects.map(({ obj: o }) => o).filter((o) => o.kind === "RoleBinding" && o.roleRef?.kind === "Role" &&
            (o.subjects ?? []).some((x) => x.kind === "ServiceAccount" && x.name === sa && (x.namespace ?? o.metadata.namespace) === ns))
            .map((o) => roles.get(`${o.metadata.namespace}/${o.roleRef.name}`)).filter(Boolean);
        const NEEDS = [["", "pods"], ["discovery.k8s.io", "endpointslices"]];
        for (const [group, res] of NEEDS)
            for (const verb of ["get", "list", "watch"])
                if (!bound.some((r) => r.metadata.namespace === backendNs && (r.rules ?? []).some((x) =>
                    (x.apiGroups ?? []).includes(group) && (x.resources ?? []).includes(res) && (x.verbs ?? []).includes(verb))))
                    report(`ServiceAccount ${ns}/${sa} may not ${verb} ${res} in the backends' namespace ${backendNs} (no Role there bound to it grants it)`);
        for (const r of bound)
            for (const x of r.rules ?? [])
                for (const v of x.verbs ?? [])
                    if (!["get", "list", "watch"].includes(v))
                        report(`Role ${r.metadata.namespace}/${r.metadata.name} grants ${v} on ${(x.resources ?? []).join(",")}: the controller only reads`);
    }
}

// ---------------------------------------------------------------- the mode
// The ConfigMap's `mode` (nat or flow) reaches the load balancer's
// containers (their steps, the controller's rendering, the timeouts'
// default); flow mode needs mh and the virtual port on the pods (IPIP
// rewrites no port); and the web pods' web-init, which cannot read a
// ConfigMap of another namespace, carries the same mode and the virtual
// address as literals: they must agree.
if (lb) {
    const { where, obj } = lb;
    const spec = podSpecOf(obj);
    const report = (msg) => problems.push(`${where}: ${msg}`);
    const envOf = (c, n) => (c?.env ?? []).find((e) => e.name === n);
    const ipvsC = (spec.containers ?? []).find((c) => c.name === "ipvs");
    const ref = envOf(ipvsC, "IPVS_CONTROLLER_NAMESPACE")?.valueFrom?.configMapKeyRef;
    const cmName = ref?.name;
    const cm = cmName ? configMaps.get(`${lbNs}/${cmName}`) : undefined;
    for (const c of containersOf(spec).filter((c) => c.image?.includes("/ipvs:"))) {
        const m = envOf(c, "IPVS_CONTROLLER_MODE")?.valueFrom?.configMapKeyRef;
        if (!m || m.name !== cmName || m.key !== "mode")
            report(`container ${c.name}: IPVS_CONTROLLER_MODE does not come from the ConfigMap's mode key: it would run nat mode's steps whatever the mode`);
    }
    const prep = envOf(ipvsC, "IPVS_PREPARE")?.value;
    if (ipvsC && prep !== undefined && !String(prep).split(",").includes("sloppy"))
        report(`container ipvs: IPVS_PREPARE "${prep}" lacks sloppy: in flow mode nothing would confirm net.ipv4.vs.sloppy_tcp`);
    if (cm) {
        const mode = cm.mode ?? "nat";
        const vs = String(cm["virtual-server"] ?? "");
        const [vip, vport] = [vs.replace(/:[^:]*$/, ""), vs.replace(/^.*:/, "")];
        const cmWhere = `ConfigMap ${lbNs}/${cmName}`;
        if (!["nat", "flow"].includes(mode)) problems.push(`${cmWhere}: mode "${mode}" is neither nat nor flow`);
        if (mode === "flow") {
            if ((cm["lb-algo"] ?? "mh") !== "mh")
                problems.push(`${cmWhere}: mode flow with lb-algo "${cm["lb-algo"]}": flow mode schedules with mh (the controller refuses another)`);
            if (cm["target-port"] !== undefined && cm["target-port"] !== vport)
                problems.push(`${cmWhere}: mode flow with target-port ${cm["target-port"]}, not the virtual server's port ${vport}: IPIP does not rewrite ports`);
        }
        // the web pods: in the ConfigMap's namespace, labelled as its selector says
        const sel = String(cm.selector ?? "").split(",").map((t) => t.trim()).filter(Boolean).map((t) => t.split(/==?/));
        const matches = (labels) => sel.length > 0 && sel.every((t) => t.length === 2 && labels?.[t[0].trim()] === t[1].trim());
        for (const { where: w, obj: o } of objects) {
            const s = podSpecOf(o);
            if (!s || (o.metadata?.namespace ?? "default") !== cm.namespace || !matches(o.spec?.template?.metadata?.labels ?? o.metadata?.labels)) continue;
            const inits = (s.initContainers ?? []).filter(isWebInit);
            if (inits.length === 0) {
                if (mode === "flow") problems.push(`${w}: no web-init init container: in flow mode the web pods must take the requests tunnelled to them (tunl0 up with ${vip} on it)`);
                continue;
            }
            for (const c of inits) {
                const args = [...(c.command ?? []), ...(c.args ?? [])].map(String);
                const after = args.slice(args.findIndex((a) => /(^|\s)web-init(\s|$)/.test(a)) + 1);
                const env = envOf(c, "IPVS_WEB_VIPS");
                if (after.length === 0 && env?.valueFrom) problems.push(`${w}: container ${c.name}: IPVS_WEB_VIPS is not a literal value, so it cannot be checked against the ConfigMap's virtual address`);
                const vips = (after.length ? after.join(",") : String(env?.value ?? "")).split(/[\s,]+/).filter(Boolean);
                if (!vips.includes(vip))
                    problems.push(`${w}: container ${c.name}: its virtual addresses (${vips.join(", ") || "none"}) lack the ConfigMap's virtual-server address ${vip}`);
                const wmode = envOf(c, "IPVS_WEB_MODE")?.value ?? "flow";
                if (wmode !== mode)
                    problems.push(`${w}: container ${c.name}: IPVS_WEB_MODE is ${wmode} but the ConfigMap's mode is ${mode}`);
                const sc = c.securityContext ?? {};
                if (!(sc.capabilities?.add ?? []).includes("NET_ADMIN"))
                    problems.push(`${w}: container ${c.name}: does not add NET_ADMIN, which it needs for tunl0 and the addresses`);
                const uid = eff(s, c, "runAsUser");
                if (uid !== undefined && uid !== 0)
                    problems.push(`${w}: container ${c.name}: runs as uid ${uid}, not 0: NET_ADMIN would not be effective (no ambient capabilities)`);
                if (sc.privileged) problems.push(`${w}: container ${c.name}: privileged, where NET_ADMIN suffices`);
            }
        }
    }
}

for (const p of problems) console.log(p);
if (problems.length) {
    console.log(`${problems.length} problem(s)`);
    process.exit(1);
}
console.log(`${checked} object(s) valid, no unknown fields`);
