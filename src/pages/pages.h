/* pages.h — handlers of src/pages/, one file per screen or resource. */
#ifndef AAPANEL_PAGES_H
#define AAPANEL_PAGES_H

#include "aapanel/app.h"

int ap_page_home(struct ap_ctx *ctx);    /* GET / — server overview */
int ap_page_healthz(struct ap_ctx *ctx); /* GET /healthz — JSON health */
int ap_page_lang(struct ap_ctx *ctx);    /* POST /lang — language preference */

int ap_page_test_sleep(struct ap_ctx *ctx); /* GET /_test/sleep — test profile only */
int ap_page_test_table(struct ap_ctx *ctx); /* GET /_test/table — test profile only */

#endif
