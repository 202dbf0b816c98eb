/*
 * fwrules.h — the firewall's rules as the panel keeps them, checked, turned
 * into one libnftables JSON transaction for the panel's own table
 * `inet aapanel`, and the lock-out guard (docs/firewall.md).
 *
 * The ruleset document is the one shape the worker sends and the helper
 * checks again (json-c objects, never text pasted together):
 *
 *   {"policy":"accept"|"drop", "icmp_echo":true,
 *    "rules":[{"id":1, "action":"allow"|"deny", "proto":"tcp"|"udp"|"both",
 *              "ports":"8443" | "8000-8100", "from":"192.0.2.0/24 2001:db8::/32" | "",
 *              "rate":0, "comment":"..."}, ...],      (in order: the first match decides)
 *    "block":["198.51.100.7", "203.0.113.0/24", ...]}
 */
#ifndef AAPANEL_FWRULES_H
#define AAPANEL_FWRULES_H

#include <json-c/json.h>

#include "aapanel/common.h"
#include "aapanel/problem.h"

#define AP_FW_TABLE "aapanel"      /* the panel's table, family inet; no other is touched */
#define AP_FW_MAX_RULES 256        /* rules in a ruleset */
#define AP_FW_MAX_FROM 32          /* addresses or networks in one rule's from */
#define AP_FW_MAX_BLOCK 2000       /* block-list entries (the helper's message bounds it too) */
#define AP_FW_MAX_RATE 100000      /* new connections per minute */
#define AP_FW_COMMENT_MAX 64

/*
 * Parse a port spec: "8443", "8000-8100", optionally followed by "/tcp",
 * "/udp" or "/both" ("8443/tcp"). *lo, *hi 1..65535 with lo <= hi; *proto
 * (may be NULL) gets "tcp", "udp", "both" or NULL when no protocol was
 * given (a constant). False with the reason in why otherwise.
 */
bool ap_fw_ports_parse(const char *s, int *lo, int *hi, const char **proto, char *why, size_t whylen);

/* A from list: addresses or CIDR networks (IPv4, IPv6) separated by spaces or
 * commas, at most AP_FW_MAX_FROM, "" = any. False with the reason in why. */
bool ap_fw_from_check(const char *s, char *why, size_t whylen);
/* A comment: 0..64 bytes of letters, digits, space and . _ , : @ + = - / ( ) #. */
bool ap_fw_comment_check(const char *s, char *why, size_t whylen);
/* A block-list entry: one address or CIDR network. */
bool ap_fw_block_check(const char *s, char *why, size_t whylen);
/*
 * The checks' reasons are English text in why; the constant one among
 * them (a msgid the catalogs translate) whose text is why, or NULL (a
 * reason with a value in it: "X is not an address or a CIDR network").
 */
const char *ap_fw_reason_msgid(const char *why);

/*
 * Check a whole ruleset document. AP_OK, or AP_ERR_INVAL with pb naming the
 * member ("rules[2].from", "block[7]", "policy") and the reason.
 */
enum ap_err ap_fw_doc_check(struct json_object *doc, struct ap_problem *pb);

/*
 * The libnftables JSON batch (owned) that replaces table inet aapanel with
 * doc in one transaction: add the table (so that deleting it cannot fail),
 * delete it, create it again with its sets, its input chain and rules.
 * Nothing names another table. doc must have passed ap_fw_doc_check.
 */
struct json_object *ap_fw_nft_batch(struct json_object *doc);
/* The batch that removes the table (to restore "no panel rules at all"). */
struct json_object *ap_fw_nft_delete_batch(void);

/*
 * The lock-out guard: would a new TCP connection from addr to port be
 * dropped by doc (the block list, then the rules in order, then the
 * policy)? True with the reason in why ("rule 3 denies it", ...). An addr
 * that is not an address (a unix socket, "") is never blocked.
 */
bool ap_fw_blocks(struct json_object *doc, const char *addr, int port, char *why, size_t whylen);

#endif
