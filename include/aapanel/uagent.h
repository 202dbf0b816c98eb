/*
 * uagent.h — a User-Agent header as a person reads it: "Chrome on Linux",
 * "Firefox on Windows", "curl". Only the common browsers, systems and
 * command-line clients are named; anything else is "Unknown browser".
 */
#ifndef AAPANEL_UAGENT_H
#define AAPANEL_UAGENT_H

/*
 * Name the browser (or client) and the operating system of ua (may be NULL).
 * Both results are constant strings; *os is NULL when the system is not
 * known (command-line clients, bots). Never fails.
 */
void ap_ua_summary(const char *ua, const char **browser, const char **os);

#endif
