// SPDX-License-Identifier: Apache-2.0
/*
 * conf.c - render exabgp.conf and the route list printed by --dry-run.
 *
 * Every value written comes from a parsed address, a number or the
 * base64 of the password, so nothing in the file can break exabgp's
 * tokeniser; exabgp itself decodes the password (md5-base64).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "version.h"

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = tab[v >> 18];
        *out++ = tab[(v >> 12) & 63];
        *out++ = tab[(v >> 6) & 63];
        *out++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *out++ = tab[v >> 18];
        *out++ = tab[(v >> 12) & 63];
        *out++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *out++ = '=';
    }
    *out = '\0';
}

/* Characters exabgp's tokeniser takes as part of one word of a run line. */
static const char word_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                 "-._~/%!$&()*+,=:@?";

int conf_check_word(const char *s)
{
    return *s && strspn(s, word_chars) == strlen(s) ? 0 : -EINVAL;
}

static const char *const level_names[] = {
    [LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn", [LOG_ERROR] = "error"};

/*
 * The gate's process block: the helper itself, with everything it needs on
 * its command line (exabgp passes its environment on, but run's flags
 * would be lost).  Every word was parsed or checked by conf_check_word.
 */
static int render_gate(const struct plan *plan, struct buf *out)
{
    const struct helper_config *cfg = plan->cfg;
    char a[NETADDR_STRLEN];
    int rc = 0;

    if (conf_check_word(plan->self) < 0 || conf_check_word(cfg->exabgp_conf) < 0 ||
        conf_check_word(cfg->health_url) < 0)
        return -EINVAL;
    rc |= buf_printf(out, "\nprocess health-gate {\n    run %s health-gate --health-url %s",
                     plan->self, cfg->health_url);
    rc |= buf_puts(out, " --service-prefixes ");
    for (size_t j = 0; j < cfg->n_prefixes; j++)
        rc |= buf_printf(out, "%s%s/%u", j ? "," : "", netaddr_format(&cfg->prefixes[j].addr, a),
                         cfg->prefixes[j].len);
    rc |= buf_printf(out, " --node-ip %s --exabgp-conf %s --log-level %s;\n",
                     netaddr_format(&plan->node_ip, a), cfg->exabgp_conf,
                     level_names[cfg->log_level]);
    rc |= buf_puts(out, "    encoder text;\n}\n");
    return rc ? -EMSGSIZE : 0;
}

int conf_render(const struct plan *plan, bool announce, struct buf *out)
{
    const struct helper_config *cfg = plan->cfg;
    char pod[NETADDR_STRLEN], node[NETADDR_STRLEN], rid[NETADDR_STRLEN], a[NETADDR_STRLEN];
    bool gated = cfg->health_url != NULL;
    int rc = 0;

    netaddr_format(&plan->pod_ip, pod);
    node[0] = '\0';
    if (announce)
        netaddr_format(&plan->node_ip, node);
    netaddr_format(&plan->router_id, rid);
    rc |= buf_printf(out,
                     "# Written by exabgp-helper %s at every start; edits are lost.\n"
                     "# %s\n",
                     LB_VERSION,
                     !announce ? "Drained: the sessions stay up, announcing nothing."
                     : gated   ? "The health gate announces the service prefixes, with this pod's "
                                 "node as next hop,\n# while HEALTH_URL answers 200."
                             : "Announces the service prefixes with this pod's node as next hop.");
    if (gated) {
        /* kept when drained: a reload must not stop the gate before it withdrew */
        int g = render_gate(plan, out);
        if (g < 0)
            return g;
    }
    for (size_t i = 0; i < cfg->n_peers; i++) {
        rc |= buf_printf(out, "\nneighbor %s {\n", netaddr_format(&cfg->peers[i], a));
        rc |= buf_printf(out,
                         "    router-id %s;\n"
                         "    local-address %s;\n"
                         "    local-as %u;\n"
                         "    peer-as %u;\n"
                         "    hold-time %u;\n",
                         rid, pod, cfg->local_as, cfg->peer_as, cfg->hold_time);
        if (plan->md5) {
            char b64[(HELPER_MD5_MAX + 2) / 3 * 4 + 1];
            base64((const unsigned char *)plan->md5, strlen(plan->md5), b64);
            rc |= buf_printf(out,
                             "    md5-password \"%s\";\n"
                             "    md5-base64 true;\n",
                             b64);
        }
        rc |= buf_puts(out, "    family {\n        ipv4 unicast;\n    }\n");
        if (gated) {
            rc |= buf_puts(out, "    api {\n        processes [ health-gate ];\n    }\n}\n");
            continue;
        }
        rc |= buf_puts(out, "    static {\n");
        for (size_t j = 0; announce && j < cfg->n_prefixes; j++) {
            rc |= buf_printf(out, "        route %s/%u next-hop %s;\n",
                             netaddr_format(&cfg->prefixes[j].addr, a), cfg->prefixes[j].len, node);
        }
        rc |= buf_puts(out, "    }\n}\n");
    }
    return rc ? -EMSGSIZE : 0;
}

int conf_render_routes(const struct plan *plan, struct buf *out)
{
    const struct helper_config *cfg = plan->cfg;
    char pod[NETADDR_STRLEN], a[NETADDR_STRLEN];
    int rc = 0;

    netaddr_format(&plan->pod_ip, pod);
    rc |= buf_printf(out, "# node namespace %s\n", cfg->node_netns);
    for (size_t j = 0; j < cfg->n_prefixes; j++) {
        rc |= buf_printf(out, "ip route replace %s/%u via %s dev %s proto %d\n",
                         netaddr_format(&cfg->prefixes[j].addr, a), cfg->prefixes[j].len, pod,
                         plan->node_ifname, RTPROT_EXABGP_HELPER);
    }
    rc |= buf_puts(out, "# pod namespace\n");
    for (size_t j = 0; j < cfg->n_prefixes; j++) {
        rc |= buf_printf(out, "ip route replace local %s/%u dev lo table local proto %d\n",
                         netaddr_format(&cfg->prefixes[j].addr, a), cfg->prefixes[j].len,
                         RTPROT_EXABGP_HELPER);
    }
    return rc ? -EMSGSIZE : 0;
}
