/*
 * cli.h — the command-line forms of the account actions: `aapanel user …`,
 * `aapanel token …`, `aapanel audit verify`. Each returns the exit status
 * and records its changes in the audit log (via "cli").
 */
#ifndef AAPANEL_CLI_H
#define AAPANEL_CLI_H

#include "aapanel/config.h"

int ap_cli_user(const struct ap_config *cfg, int argc, char **argv);
int ap_cli_token(const struct ap_config *cfg, int argc, char **argv);
int ap_cli_audit(const struct ap_config *cfg, int argc, char **argv);

#endif
