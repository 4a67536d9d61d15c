// check.mjs FILE... - validate Kubernetes manifests offline, as the API
// server would with field validation set to Strict:
//  1. every document is a known apiVersion/kind and passes the Kubernetes
//     OpenAPI schema (kubernetes-models: types, required fields, formats);
//  2. no document carries a field the schema does not define (a misspelled
//     `comand:` is silently dropped by kubectl's default validation and by
//     the schema check, so it is found here, from the field lists that
//     @kubernetes/client-node generates from the same OpenAPI document).
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

for (const p of problems) console.log(p);
if (problems.length) {
    console.log(`${problems.length} problem(s)`);
    process.exit(1);
}
console.log(`${checked} object(s) valid, no unknown fields`);
