/*
 * check_backupcheck.c — backupcheck.h: destination URLs parsed into their
 * parts and the repository argument restic gets, names, snapshot ids,
 * paths inside a snapshot and tags; valid and invalid rows side by side.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/backupcheck.h"
#include "aapanel/common.h"

static const struct {
	const char *url;
	const char *repo; /* NULL: refused */
	const char *host;
	int port;
} url_rows[] = {
	{ "local:/srv/backups", "/srv/backups", "", 0 },
	{ "local:/srv/backups/site-1_a.b", "/srv/backups/site-1_a.b", "", 0 },
	{ "sftp:backup@bk.example.com:/srv/restic", "sftp:backup@bk.example.com:/srv/restic", "bk.example.com", 22 },
	{ "sftp://backup@10.0.0.5:2222/srv/restic", "sftp:backup@10.0.0.5:/srv/restic", "10.0.0.5", 2222 },
	{ "s3:https://s3.example.com/bucket", "s3:https://s3.example.com/bucket", "s3.example.com", 0 },
	{ "s3:https://minio.lan:9000/my.bucket/panel/one", "s3:https://minio.lan:9000/my.bucket/panel/one", "minio.lan", 9000 },
	{ "s3:http://127.0.0.1:9000/bucket", "s3:http://127.0.0.1:9000/bucket", "127.0.0.1", 9000 },
	{ "local:relative", NULL, NULL, 0 },
	{ "local:/", NULL, NULL, 0 },
	{ "local:/srv/../etc", NULL, NULL, 0 },
	{ "local:/srv/./x", NULL, NULL, 0 },
	{ "local:/srv//x", NULL, NULL, 0 },
	{ "local:/srv/x y", NULL, NULL, 0 },
	{ "local:/srv/$(id)", NULL, NULL, 0 },
	{ "local:/srv/x;rm", NULL, NULL, 0 },
	{ "local:/srv/\xd8\xa7", NULL, NULL, 0 },
	{ "/srv/backups", NULL, NULL, 0 },
	{ "ftp://x/y", NULL, NULL, 0 },
	{ "sftp:host:/x", NULL, NULL, 0 },
	{ "sftp:Root@host:/x", NULL, NULL, 0 },
	{ "sftp:u@host:x", NULL, NULL, 0 },
	{ "sftp:u@-host:/x", NULL, NULL, 0 },
	{ "sftp:u@host_x:/x", NULL, NULL, 0 },
	{ "sftp://u@host:0/x", NULL, NULL, 0 },
	{ "sftp://u@host:65536/x", NULL, NULL, 0 },
	{ "sftp://u@host:22x/x", NULL, NULL, 0 },
	{ "sftp:u@host:/x -oProxyCommand=id", NULL, NULL, 0 },
	{ "s3:http://s3.example.com/bucket", NULL, NULL, 0 },
	{ "s3:https://s3.example.com", NULL, NULL, 0 },
	{ "s3:https://s3.example.com/", NULL, NULL, 0 },
	{ "s3:https://s3.example.com/ab", NULL, NULL, 0 },
	{ "s3:https://s3.example.com/Bucket", NULL, NULL, 0 },
	{ "s3:https://s3.example.com/bucket/../x", NULL, NULL, 0 },
	{ "s3:https://s3.example.com/bucket//x", NULL, NULL, 0 },
	{ "s3:s3.example.com/bucket", NULL, NULL, 0 },
	{ "", NULL, NULL, 0 },
};

START_TEST(test_url)
{
	struct ap_bk_url u;
	char repo[512];
	const char *why = ap_bk_url_parse(url_rows[_i].url, &u);

	if (url_rows[_i].repo == NULL) {
		ck_assert_msg(why != NULL, "'%s' accepted", url_rows[_i].url);
		ck_assert_ptr_nonnull(ap_check_backup_url(url_rows[_i].url, strlen(url_rows[_i].url)));
		return;
	}
	ck_assert_msg(why == NULL, "'%s' refused: %s", url_rows[_i].url, why);
	ck_assert_ptr_null(ap_check_backup_url(url_rows[_i].url, strlen(url_rows[_i].url)));
	ck_assert(ap_bk_url_repo(&u, repo, sizeof(repo)));
	ck_assert_str_eq(repo, url_rows[_i].repo);
	ck_assert_str_eq(u.host, url_rows[_i].host);
	ck_assert_int_eq(u.port, url_rows[_i].port);
}
END_TEST

START_TEST(test_url_bounds)
{
	char big[AP_BK_URL_MAX + 2], repo[16];
	struct ap_bk_url u;

	memset(big, 'a', sizeof(big));
	memcpy(big, "local:/", 7);
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_nonnull(ap_bk_url_parse(big, &u));
	ck_assert_ptr_nonnull(ap_check_backup_url("local:/a\0b", 10)); /* a NUL inside */
	ck_assert_ptr_null(ap_bk_url_parse("local:/srv/a-long-enough-path", &u));
	ck_assert(!ap_bk_url_repo(&u, repo, sizeof(repo))); /* does not fit: refused, not cut */
}
END_TEST

static const struct {
	const char *v;
	bool ok;
} name_rows[] = {
	{ "offsite", true }, { "s3-main_2", true }, { "a", true },
	{ "", false }, { "Offsite", false }, { "1st", false }, { "a.b", false }, { "a b", false },
	{ "abcdefghijklmnopqrstuvwxyz0123456", false },
}, snap_rows[] = {
	{ "latest", true }, { "a292e439", true },
	{ "a292e439bbc01b2bc9356e9e4adb4921504c751842a5d43e712c00e64cbcea1d", true },
	{ "a292e43", false }, { "A292E439", false }, { "a292e439;rm", false }, { "--help00", false },
	{ "", false },
}, inner_rows[] = {
	{ "/", true }, { "/var/www/x.com/public/index.html", true }, { "/اسم عربي/ملف.txt", true },
	{ "var/www", false }, { "/var/../etc/shadow", false }, { "/var/./x", false },
	{ "/a\nb", false }, { "", false },
}, tag_rows[] = {
	{ "site:shop.test", true }, { "database:shop_db", true }, { "panel", true },
	{ "Site:x", false }, { "site:x y", false }, { "a,b", false }, { "", false },
}, newdir_rows[] = {
	/* a restore's new folder (the panel's: <backups.dir>/.panel-restores/NAME) */
	{ "first", true }, { "panel-2026.12.01_a", true }, { "A", true },
	{ "", false }, { ".hidden", false }, { "..", false }, { "../etc", false }, { "a/b", false },
	{ "a b", false }, { "x;rm", false }, { "اسم", false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
};

START_TEST(test_names)
{
	for (size_t i = 0; i < AP_NELEM(name_rows); i++)
		ck_assert_msg((ap_check_backup_dest_name(name_rows[i].v, strlen(name_rows[i].v)) == NULL) ==
		    name_rows[i].ok, "name %s", name_rows[i].v);
	for (size_t i = 0; i < AP_NELEM(snap_rows); i++)
		ck_assert_msg((ap_check_backup_snapshot(snap_rows[i].v, strlen(snap_rows[i].v)) == NULL) ==
		    snap_rows[i].ok, "snapshot %s", snap_rows[i].v);
	for (size_t i = 0; i < AP_NELEM(inner_rows); i++)
		ck_assert_msg((ap_check_backup_inner_path(inner_rows[i].v, strlen(inner_rows[i].v)) == NULL) ==
		    inner_rows[i].ok, "path %s", inner_rows[i].v);
	for (size_t i = 0; i < AP_NELEM(tag_rows); i++)
		ck_assert_msg((ap_check_backup_tag(tag_rows[i].v, strlen(tag_rows[i].v)) == NULL) ==
		    tag_rows[i].ok, "tag %s", tag_rows[i].v);
	for (size_t i = 0; i < AP_NELEM(newdir_rows); i++)
		ck_assert_msg((ap_check_backup_new_dir(newdir_rows[i].v, strlen(newdir_rows[i].v)) == NULL) ==
		    newdir_rows[i].ok, "new_dir %s", newdir_rows[i].v);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("backupcheck");
	TCase *tc = tcase_create("backupcheck");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_url, 0, (int)AP_NELEM(url_rows));
	tcase_add_test(tc, test_url_bounds);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
