/*
 * uagent.c — naming the client of a User-Agent header (uagent.h). Order
 * matters: Edge and Opera say "Chrome" too, Chrome says "Safari", Android
 * says "Linux", iOS says "Mac OS X".
 */
#include <string.h>

#include "aapanel/common.h"
#include "aapanel/uagent.h"

struct rule {
	const char *token;
	const char *name;
};

static const struct rule browsers[] = {
	{ "Edg/", "Edge" }, { "Edge/", "Edge" }, { "OPR/", "Opera" }, { "Opera", "Opera" },
	{ "SamsungBrowser/", "Samsung Internet" }, { "YaBrowser/", "Yandex Browser" },
	{ "Vivaldi/", "Vivaldi" }, { "Firefox/", "Firefox" }, { "FxiOS/", "Firefox" },
	{ "CriOS/", "Chrome" }, { "Chromium/", "Chromium" }, { "HeadlessChrome/", "Chrome" },
	{ "Chrome/", "Chrome" }, { "Safari/", "Safari" }, { "curl/", "curl" }, { "Wget/", "Wget" },
	{ "python-requests/", "Python requests" }, { "Python-urllib/", "Python" },
	{ "Go-http-client/", "Go" }, { "okhttp/", "OkHttp" }, { "PostmanRuntime/", "Postman" },
	{ "HTTPie/", "HTTPie" }, { "aiohttp/", "Python aiohttp" }, { "node-fetch", "Node.js" },
	{ "axios/", "Node.js" },
};

static const struct rule systems[] = {
	{ "Android", "Android" }, { "iPhone", "iOS" }, { "iPad", "iPadOS" }, { "CrOS", "ChromeOS" },
	{ "Windows", "Windows" }, { "Mac OS X", "macOS" }, { "Macintosh", "macOS" },
	{ "FreeBSD", "FreeBSD" }, { "OpenBSD", "OpenBSD" }, { "Linux", "Linux" },
};

void
ap_ua_summary(const char *ua, const char **browser, const char **os)
{
	*browser = N_("Unknown browser");
	*os = NULL;
	if (ua == NULL || ua[0] == '\0')
		return;
	for (size_t i = 0; i < AP_NELEM(browsers); i++)
		if (strstr(ua, browsers[i].token) != NULL) {
			*browser = browsers[i].name;
			break;
		}
	for (size_t i = 0; i < AP_NELEM(systems); i++)
		if (strstr(ua, systems[i].token) != NULL) {
			*os = systems[i].name;
			break;
		}
}
