/*
 * databases.c — the database servers and the databases the panel made on
 * them (databases.h, docs/databases.md): the db_servers and
 * managed_databases tables, and the helper's dbserver.* and database.*
 * operations that change the servers. The order of each change keeps the
 * record and the server in step: the helper acts first, the row follows;
 * a row that cannot be written after a create undoes the create.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/databases.h"
#include "aapanel/dbhistory.h"
#include "aapanel/dsn.h"
#include "aapanel/log.h"

static const char srv_cols[] =
    "s.id, s.name, s.engine, s.dsn, s.created_at, "
    "(SELECT COUNT(*) FROM managed_databases m WHERE m.server_id = s.id)";
static const char db_cols[] =
    "m.id, m.server_id, s.name, m.engine, m.name, m.owner, m.hosts, m.charset, m.site_id, "
    "t.domain, m.created_at, m.updated_at, m.reader";
static const char db_from[] =
    "managed_databases m JOIN db_servers s ON s.id = m.server_id LEFT JOIN sites t ON t.id = m.site_id";

static void
text_col(struct ap_db_stmt *st, int col, char *dst, size_t n)
{
	const char *t = ap_db_col_text(st, col, NULL);

	snprintf(dst, n, "%s", t ? t : "");
}

static int64_t
int_col(struct ap_db_stmt *st, int col)
{
	return ap_db_col_is_null(st, col) ? 0 : ap_db_col_int64(st, col);
}

static void
srv_fill(struct ap_db_stmt *st, struct ap_dbserver *s)
{
	memset(s, 0, sizeof(*s));
	s->id = ap_db_col_int64(st, 0);
	text_col(st, 1, s->name, sizeof(s->name));
	text_col(st, 2, s->engine, sizeof(s->engine));
	text_col(st, 3, s->dsn, sizeof(s->dsn));
	s->created_at = int_col(st, 4);
	s->databases = int_col(st, 5);
}

static void
db_fill(struct ap_db_stmt *st, struct ap_database *d)
{
	memset(d, 0, sizeof(*d));
	d->id = ap_db_col_int64(st, 0);
	d->server_id = int_col(st, 1);
	text_col(st, 2, d->server, sizeof(d->server));
	text_col(st, 3, d->engine, sizeof(d->engine));
	text_col(st, 4, d->name, sizeof(d->name));
	text_col(st, 5, d->user, sizeof(d->user));
	text_col(st, 6, d->hosts, sizeof(d->hosts));
	text_col(st, 7, d->charset, sizeof(d->charset));
	d->site_id = int_col(st, 8);
	text_col(st, 9, d->site, sizeof(d->site));
	d->created_at = int_col(st, 10);
	d->updated_at = int_col(st, 11);
	text_col(st, 12, d->reader, sizeof(d->reader));
}

static enum ap_err
db_fail(struct ap_problem *pb, enum ap_db_rc rc)
{
	if (rc == AP_DB_ECONN || rc == AP_DB_ETIMEOUT)
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "database unavailable");
	else if (rc == AP_DB_ECONSTRAINT)
		ap_problem_set(pb, AP_PB_EXISTS, "name", "already exists");
	else
		ap_problem_set(pb, AP_PB_INTERNAL, NULL, "a database error occurred");
	return AP_ERR_IO;
}

/* ---------------------------------------------------------------- servers */

static enum ap_err
srv_one(const struct ap_sites_env *env, int64_t id, const char *name, struct ap_dbserver *out,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM db_servers s WHERE %s", srv_cols,
	    name ? "s.name = ?" : "s.id = ?");
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	if (name != NULL)
		ap_db_bind_text(st, 1, name, -1);
	else
		ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		srv_fill(st, out);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE)
		return ap_problem_set(pb, AP_PB_NOT_FOUND, name ? "server" : "id", "no such database server");
	return rc == AP_DB_ROW ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_dbserver_get(const struct ap_sites_env *env, int64_t id, struct ap_dbserver *out,
    struct ap_problem *pb)
{
	return srv_one(env, id, NULL, out, pb);
}

enum ap_err
ap_dbserver_find(const struct ap_sites_env *env, const char *name, struct ap_dbserver *out,
    struct ap_problem *pb)
{
	return srv_one(env, 0, name, out, pb);
}

enum ap_err
ap_dbserver_each(const struct ap_sites_env *env, bool (*fn)(void *ctx, const struct ap_dbserver *s),
    void *ctx, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_dbserver s;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM db_servers s ORDER BY s.name", srv_cols);
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		srv_fill(st, &s);
		if (!fn(ctx, &s)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_dbserver_add(const struct ap_sites_env *env, const char *name, const char *dsn,
    const char *password, struct ap_dbserver *out, struct ap_problem *pb)
{
	struct json_object *args = json_object_new_object(), *res = NULL;
	struct ap_db_stmt *st = NULL;
	struct ap_problem ign;
	enum ap_db_backend be;
	struct ap_db_dsn d = { 0 };
	char why[160];
	enum ap_db_rc drc;
	enum ap_err rc;

	/* The DSN's checks before anything goes to the helper (which checks again). */
	if (!ap_db_dsn_backend(dsn, &be) || be == AP_DB_SQLITE) {
		rc = ap_problem_set(pb, AP_PB_INVALID, "dsn", "must be a mysql:// or postgresql:// DSN");
		goto out;
	}
	if (ap_dbserver_find(env, name, out, &ign) == AP_OK) {
		rc = ap_problem_set(pb, AP_PB_EXISTS, "name", "a database server of this name exists");
		goto out;
	}
	json_object_object_add(args, "name", json_object_new_string(name));
	json_object_object_add(args, "dsn", json_object_new_string(dsn));
	if (password != NULL && password[0] != '\0')
		json_object_object_add(args, "password", json_object_new_string(password));
	if ((rc = ap_site_helper_call(env, "dbserver.add", args, &res, pb)) != AP_OK)
		goto out;
	drc = ap_db_prepare(env->db,
	    "INSERT INTO db_servers (name, engine, dsn, created_at) VALUES (?, ?, ?, ?)", &st);
	if (drc == AP_DB_OK) {
		ap_db_bind_text(st, 1, name, -1);
		ap_db_bind_text(st, 2, be == AP_DB_MYSQL ? "mysql" : "postgresql", -1);
		ap_db_bind_text(st, 3, dsn, -1);
		ap_db_bind_int64(st, 4, (int64_t)time(NULL));
		drc = ap_db_step(st);
	}
	ap_db_finalize(st);
	if (drc != AP_DB_DONE) {
		struct json_object *rm = json_object_new_object(), *r2 = NULL;

		rc = db_fail(pb, drc);
		json_object_object_add(rm, "name", json_object_new_string(name));
		ap_site_helper_call(env, "dbserver.remove", rm, &r2, &ign);
		json_object_put(r2);
		json_object_put(rm);
		goto out;
	}
	rc = ap_dbserver_find(env, name, out, pb);
out:
	(void)why;
	ap_db_dsn_free(&d);
	json_object_put(res);
	json_object_put(args);
	return rc;
}

enum ap_err
ap_dbserver_remove(const struct ap_sites_env *env, const struct ap_dbserver *s, struct ap_problem *pb)
{
	struct json_object *args, *res = NULL;
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc drc;
	enum ap_err rc;

	if (s->databases > 0)
		return ap_problem_set(pb, AP_PB_CONFLICT, "id",
		    "the panel still has %lld database(s) on this server: drop them first",
		    (long long)s->databases);
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(s->name));
	rc = ap_site_helper_call(env, "dbserver.remove", args, &res, pb);
	json_object_put(args);
	json_object_put(res);
	if (rc != AP_OK && pb->code != AP_PB_NOT_FOUND)
		return rc;
	drc = ap_db_prepare(env->db, "DELETE FROM db_servers WHERE id = ?", &st);
	if (drc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, s->id);
		drc = ap_db_step(st);
	}
	ap_db_finalize(st);
	return drc == AP_DB_DONE ? AP_OK : db_fail(pb, drc);
}

struct json_object *
ap_dbserver_status(const struct ap_sites_env *env, const struct ap_dbserver *s)
{
	struct json_object *args = json_object_new_object(), *res = NULL;
	struct ap_problem pb;

	json_object_object_add(args, "name", json_object_new_string(s->name));
	if (ap_site_helper_call(env, "dbserver.status", args, &res, &pb) != AP_OK) {
		res = json_object_new_object();
		json_object_object_add(res, "reachable", json_object_new_boolean(false));
		json_object_object_add(res, "error", json_object_new_string(pb.reason));
	}
	json_object_put(args);
	return res;
}

void
ap_dbserver_statuses(const struct ap_sites_env *env, const struct ap_dbserver *s, size_t n,
    struct json_object **st)
{
	struct json_object *args = json_object_new_object(), *res = NULL, *arr = NULL;
	struct ap_problem pb = { 0 };
	struct ap_buf names = { 0 };
	bool ok;

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ap_buf_putc(&names, ' ');
		ap_buf_puts(&names, s[i].name);
	}
	json_object_object_add(args, "names", json_object_new_string(ap_buf_cstr(&names)));
	ap_buf_free(&names);
	ok = n == 0 || (ap_site_helper_call(env, "dbserver.statuses", args, &res, &pb) == AP_OK &&
			   json_object_object_get_ex(res, "servers", &arr) &&
			   json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == n);
	for (size_t i = 0; i < n; i++) {
		if (ok) {
			st[i] = json_object_get(json_object_array_get_idx(arr, i));
			json_object_object_del(st[i], "name");
			continue;
		}
		st[i] = json_object_new_object();
		json_object_object_add(st[i], "reachable", json_object_new_boolean(false));
		json_object_object_add(st[i], "error", json_object_new_string(pb.reason[0] ? pb.reason
			: "the helper's answer could not be read"));
	}
	json_object_put(res);
	json_object_put(args);
}

void
ap_dbserver_contents_many(const struct ap_sites_env *env, const char *const *names, size_t n,
    struct json_object **out)
{
	struct json_object *args = json_object_new_object(), *res = NULL, *arr = NULL;
	struct ap_problem pb = { 0 };
	struct ap_buf b = { 0 };
	bool ok;

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ap_buf_putc(&b, ' ');
		ap_buf_puts(&b, names[i]);
	}
	json_object_object_add(args, "names", json_object_new_string(ap_buf_cstr(&b)));
	ap_buf_free(&b);
	ok = n > 0 && ap_site_helper_call(env, "database.lists", args, &res, &pb) == AP_OK &&
	    json_object_object_get_ex(res, "servers", &arr) && json_object_is_type(arr, json_type_array) &&
	    json_object_array_length(arr) == n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = ok ? json_object_array_get_idx(arr, i) : NULL, *v = NULL;

		out[i] = o != NULL && json_object_object_get_ex(o, "reachable", &v) && json_object_get_boolean(v)
		    ? json_object_get(o) : NULL;
	}
	json_object_put(res);
	json_object_put(args);
}

struct json_object *
ap_dbserver_contents_bounded(const struct ap_sites_env *env, const struct ap_dbserver *s,
    struct ap_problem *pb)
{
	struct json_object *args = json_object_new_object(), *res = NULL, *arr = NULL, *o = NULL, *v = NULL;

	json_object_object_add(args, "names", json_object_new_string(s->name));
	if (ap_site_helper_call(env, "database.lists", args, &res, pb) == AP_OK) {
		if (json_object_object_get_ex(res, "servers", &arr) && json_object_is_type(arr, json_type_array) &&
		    json_object_array_length(arr) == 1)
			o = json_object_array_get_idx(arr, 0);
		if (o != NULL && json_object_object_get_ex(o, "reachable", &v) && json_object_get_boolean(v))
			o = json_object_get(o);
		else {
			ap_problem_set(pb, AP_PB_UNAVAILABLE, "server", "the server cannot be asked: %s",
			    o != NULL && json_object_object_get_ex(o, "error", &v) ? json_object_get_string(v)
										   : "the helper's answer could not be read");
			o = NULL;
		}
	}
	json_object_put(res);
	json_object_put(args);
	return o;
}

struct json_object *
ap_dbserver_contents(const struct ap_sites_env *env, const struct ap_dbserver *s,
    struct ap_problem *pb)
{
	struct json_object *args = json_object_new_object(), *res = NULL;

	json_object_object_add(args, "server", json_object_new_string(s->name));
	if (ap_site_helper_call(env, "database.list", args, &res, pb) != AP_OK)
		res = NULL;
	json_object_put(args);
	return res;
}

/* ---------------------------------------------------------------- databases */

static enum ap_err
db_one(const struct ap_sites_env *env, int64_t id, const char *server, const char *name,
    struct ap_database *out, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char sql[768];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s", db_cols, db_from,
	    name ? "s.name = ? AND m.name = ?" : "m.id = ?");
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	if (name != NULL) {
		ap_db_bind_text(st, 1, server, -1);
		ap_db_bind_text(st, 2, name, -1);
	} else
		ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		db_fill(st, out);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE)
		return ap_problem_set(pb, AP_PB_NOT_FOUND, name ? "name" : "id", "no such database");
	return rc == AP_DB_ROW ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_database_get(const struct ap_sites_env *env, int64_t id, struct ap_database *out,
    struct ap_problem *pb)
{
	return db_one(env, id, NULL, NULL, out, pb);
}

enum ap_err
ap_database_find(const struct ap_sites_env *env, const char *server, const char *name,
    struct ap_database *out, struct ap_problem *pb)
{
	return db_one(env, 0, server, name, out, pb);
}

enum ap_err
ap_database_page(const struct ap_sites_env *env, int64_t site_id, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_database *d), void *ctx, bool *more, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_database d;
	char sql[768];
	int64_t n = 0;
	enum ap_db_rc rc;

	if (more != NULL)
		*more = false;
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE m.id > ?%s ORDER BY m.id LIMIT ?", db_cols,
	    db_from, site_id > 0 ? " AND m.site_id = ?" : "");
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, after);
	if (site_id > 0) {
		ap_db_bind_int64(st, 2, site_id);
		ap_db_bind_int64(st, 3, limit + 1);
	} else
		ap_db_bind_int64(st, 2, limit + 1);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		if (n++ == limit) {
			if (more != NULL)
				*more = true;
			rc = AP_DB_DONE;
			break;
		}
		db_fill(st, &d);
		if (!fn(ctx, &d)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

static void
copy_password(struct json_object *res, char *password, size_t pwlen)
{
	struct json_object *p = NULL;

	json_object_object_get_ex(res, "password", &p);
	snprintf(password, pwlen, "%s", p ? json_object_get_string(p) : "");
}

enum ap_err
ap_database_create(const struct ap_sites_env *env, const struct ap_database_spec *spec,
    struct ap_database *out, char *password, size_t pwlen, struct ap_problem *pb)
{
	struct json_object *args = NULL, *res = NULL, *hosts = NULL;
	struct ap_db_stmt *st = NULL;
	struct ap_dbserver srv;
	struct ap_site site;
	struct ap_problem ign;
	const char *user = spec->user ? spec->user : spec->name;
	char charset[80] = "", hostlist[420] = "";
	bool my;
	enum ap_db_rc drc;
	enum ap_err rc;

	password[0] = '\0';
	if ((rc = ap_dbserver_find(env, spec->server, &srv, pb)) != AP_OK)
		return rc;
	my = strcmp(srv.engine, "mysql") == 0;
	if (!my && spec->hosts != NULL && strcmp(spec->hosts, "localhost") != 0)
		return ap_problem_set(pb, AP_PB_INVALID, "hosts",
		    "PostgreSQL takes the hosts from its pg_hba.conf: leave it empty");
	if (!my && (spec->charset != NULL || spec->collation != NULL))
		return ap_problem_set(pb, AP_PB_INVALID, spec->charset ? "charset" : "collation",
		    "is for MariaDB/MySQL; PostgreSQL takes an encoding");
	if (my && spec->encoding != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "encoding", "is for PostgreSQL; MariaDB/MySQL takes a charset");
	if (my && spec->locale != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "locale", "is for PostgreSQL; MariaDB/MySQL takes a collation");
	if (spec->site != NULL && spec->site[0] != '\0' && (rc = ap_site_find(env, spec->site, &site, pb)) != AP_OK) {
		pb->field[0] = '\0';
		return ap_problem_set(pb, AP_PB_INVALID, "site", "no such site");
	}
	if (ap_database_find(env, spec->server, spec->name, out, &ign) == AP_OK)
		return ap_problem_set(pb, AP_PB_EXISTS, "name", "a database of this name exists");
	args = json_object_new_object();
	json_object_object_add(args, "server", json_object_new_string(srv.name));
	json_object_object_add(args, "name", json_object_new_string(spec->name));
	json_object_object_add(args, "user", json_object_new_string(user));
	if (my) {
		json_object_object_add(args, "charset", json_object_new_string(spec->charset ? spec->charset : "utf8mb4"));
		if (spec->collation)
			json_object_object_add(args, "collation", json_object_new_string(spec->collation));
		json_object_object_add(args, "hosts", json_object_new_string(spec->hosts ? spec->hosts : "localhost"));
		snprintf(charset, sizeof(charset), "%s%s%s", spec->charset ? spec->charset : "utf8mb4",
		    spec->collation ? "/" : "", spec->collation ? spec->collation : "");
	} else {
		json_object_object_add(args, "encoding", json_object_new_string(spec->encoding ? spec->encoding : "UTF8"));
		if (spec->locale)
			json_object_object_add(args, "locale", json_object_new_string(spec->locale));
		snprintf(charset, sizeof(charset), "%s%s%s", spec->encoding ? spec->encoding : "UTF8",
		    spec->locale ? "/" : "", spec->locale ? spec->locale : "");
	}
	if ((rc = ap_site_helper_call(env, "database.create", args, &res, pb)) != AP_OK)
		goto out;
	if (json_object_object_get_ex(res, "hosts", &hosts))
		for (size_t i = 0; i < json_object_array_length(hosts); i++)
			snprintf(hostlist + strlen(hostlist), sizeof(hostlist) - strlen(hostlist), "%s%s",
			    i ? "," : "", json_object_get_string(json_object_array_get_idx(hosts, i)));
	drc = ap_db_prepare(env->db,
	    "INSERT INTO managed_databases (engine, name, owner, site_id, charset, created_at, server_id, "
	    "hosts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st);
	if (drc == AP_DB_OK) {
		int64_t now = (int64_t)time(NULL);

		ap_db_bind_text(st, 1, srv.engine, -1);
		ap_db_bind_text(st, 2, spec->name, -1);
		ap_db_bind_text(st, 3, user, -1);
		if (spec->site != NULL && spec->site[0] != '\0')
			ap_db_bind_int64(st, 4, site.id);
		else
			ap_db_bind_null(st, 4);
		ap_db_bind_text(st, 5, charset, -1);
		ap_db_bind_int64(st, 6, now);
		ap_db_bind_int64(st, 7, srv.id);
		ap_db_bind_text(st, 8, hostlist, -1);
		ap_db_bind_int64(st, 9, now);
		drc = ap_db_step(st);
	}
	ap_db_finalize(st);
	if (drc != AP_DB_DONE) {
		/* Not recorded: undo on the server, so nothing is there the panel does not know. */
		struct json_object *d = json_object_new_object(), *r2 = NULL;

		rc = drc == AP_DB_ECONSTRAINT
		    ? ap_problem_set(pb, AP_PB_EXISTS, "name", "a database of this name exists on this server")
		    : db_fail(pb, drc);
		json_object_object_add(d, "server", json_object_new_string(srv.name));
		json_object_object_add(d, "name", json_object_new_string(spec->name));
		json_object_object_add(d, "user", json_object_new_string(user));
		ap_site_helper_call(env, "database.drop", d, &r2, &ign);
		json_object_put(r2);
		json_object_put(d);
		goto out;
	}
	copy_password(res, password, pwlen);
	rc = ap_database_find(env, srv.name, spec->name, out, pb);
out:
	json_object_put(res);
	json_object_put(args);
	return rc;
}

enum ap_err
ap_database_drop(const struct ap_sites_env *env, const struct ap_database *d, struct ap_problem *pb)
{
	struct json_object *args = json_object_new_object(), *res = NULL;
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc drc;
	enum ap_err rc;

	json_object_object_add(args, "server", json_object_new_string(d->server));
	json_object_object_add(args, "name", json_object_new_string(d->name));
	json_object_object_add(args, "user", json_object_new_string(d->user));
	if (d->reader[0])
		json_object_object_add(args, "reader", json_object_new_string(d->reader));
	rc = ap_site_helper_call(env, "database.drop", args, &res, pb);
	json_object_put(args);
	json_object_put(res);
	/* Gone from the server already (dropped by hand): the row goes too. */
	if (rc != AP_OK && pb->code != AP_PB_NOT_FOUND)
		return rc;
	ap_dbhist_forget(env, d->id);
	drc = ap_db_prepare(env->db, "DELETE FROM managed_databases WHERE id = ?", &st);
	if (drc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, d->id);
		drc = ap_db_step(st);
	}
	ap_db_finalize(st);
	return drc == AP_DB_DONE ? AP_OK : db_fail(pb, drc);
}

enum ap_err
ap_database_passwd(const struct ap_sites_env *env, const struct ap_database *d, char *password,
    size_t pwlen, struct ap_problem *pb)
{
	struct json_object *args = json_object_new_object(), *res = NULL;
	struct ap_db_stmt *st = NULL;
	enum ap_err rc;

	password[0] = '\0';
	json_object_object_add(args, "server", json_object_new_string(d->server));
	json_object_object_add(args, "user", json_object_new_string(d->user));
	rc = ap_site_helper_call(env, "database.passwd", args, &res, pb);
	if (rc == AP_OK) {
		copy_password(res, password, pwlen);
		if (ap_db_prepare(env->db, "UPDATE managed_databases SET updated_at = ? WHERE id = ?", &st) ==
		    AP_DB_OK) {
			ap_db_bind_int64(st, 1, (int64_t)time(NULL));
			ap_db_bind_int64(st, 2, d->id);
			ap_db_step(st);
		}
		ap_db_finalize(st);
	}
	json_object_put(args);
	json_object_put(res);
	return rc;
}

enum ap_err
ap_database_reader(const struct ap_sites_env *env, const struct ap_database *d, const char *user,
    struct ap_database *out, char *password, size_t pwlen, struct ap_problem *pb)
{
	struct json_object *args, *res = NULL;
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc drc;
	enum ap_err rc;

	password[0] = '\0';
	if (d->reader[0])
		return ap_problem_set(pb, AP_PB_EXISTS, "user", "the database has a read-only user already");
	args = json_object_new_object();
	json_object_object_add(args, "server", json_object_new_string(d->server));
	json_object_object_add(args, "name", json_object_new_string(d->name));
	json_object_object_add(args, "user", json_object_new_string(user));
	if (strcmp(d->engine, "mysql") == 0 && d->hosts[0])
		json_object_object_add(args, "hosts", json_object_new_string(d->hosts));
	rc = ap_site_helper_call(env, "database.reader", args, &res, pb);
	json_object_put(args);
	if (rc != AP_OK)
		goto out;
	drc = ap_db_prepare(env->db, "UPDATE managed_databases SET reader = ?, updated_at = ? WHERE id = ?", &st);
	if (drc == AP_DB_OK) {
		ap_db_bind_text(st, 1, user, -1);
		ap_db_bind_int64(st, 2, (int64_t)time(NULL));
		ap_db_bind_int64(st, 3, d->id);
		drc = ap_db_step(st);
	}
	ap_db_finalize(st);
	if (drc != AP_DB_DONE) {
		/* Not recorded: the user exists on the server only (logged; drop it there by hand). */
		AP_WARN("databases: read-only user %s of %s made but not recorded", user, d->name);
		rc = db_fail(pb, drc);
		goto out;
	}
	copy_password(res, password, pwlen);
	rc = ap_database_get(env, d->id, out, pb);
out:
	json_object_put(res);
	return rc;
}

enum ap_err
ap_database_link(const struct ap_sites_env *env, const struct ap_database *d, const char *domain,
    struct ap_database *out, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_site site;
	bool link = domain != NULL && domain[0] != '\0';
	enum ap_db_rc drc;

	if (link && ap_site_find(env, domain, &site, pb) != AP_OK)
		return ap_problem_set(pb, AP_PB_INVALID, "site", "no such site");
	drc = ap_db_prepare(env->db, "UPDATE managed_databases SET site_id = ?, updated_at = ? WHERE id = ?", &st);
	if (drc == AP_DB_OK) {
		if (link)
			ap_db_bind_int64(st, 1, site.id);
		else
			ap_db_bind_null(st, 1);
		ap_db_bind_int64(st, 2, (int64_t)time(NULL));
		ap_db_bind_int64(st, 3, d->id);
		drc = ap_db_step(st);
	}
	ap_db_finalize(st);
	if (drc != AP_DB_DONE)
		return db_fail(pb, drc);
	return ap_database_get(env, d->id, out, pb);
}

struct json_object *
ap_database_json(const struct ap_database *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "server", json_object_new_string(d->server));
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "user", json_object_new_string(d->user));
	json_object_object_add(o, "reader", d->reader[0] ? json_object_new_string(d->reader) : NULL);
	json_object_object_add(o, "hosts", json_object_new_string(d->hosts));
	json_object_object_add(o, "charset", json_object_new_string(d->charset));
	json_object_object_add(o, "site", d->site[0] ? json_object_new_string(d->site) : NULL);
	return o;
}

struct json_object *
ap_dbserver_json(const struct ap_dbserver *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "engine", json_object_new_string(s->engine));
	json_object_object_add(o, "dsn", json_object_new_string(s->dsn));
	return o;
}
