# Managed by aaPanel: site {{domain}}, revision {{revision}}, disabled.
# Every request gets 503 until the site is enabled again in the panel.
server {
{{#listen}}
	listen {{.}};
{{/listen}}
	server_name {{names}};
	access_log {{access_log}};
	error_log {{error_log}};
	charset utf-8;

	location = /.well-known/aapanel-probe {
		allow 127.0.0.1;
		allow ::1;
		deny all;
		access_log off;
		default_type text/plain;
		return 200 "aapanel-probe {{domain}} {{revision}} disabled\n";
	}
	location / {
		default_type text/plain;
		return 503 "This site is disabled.\nهذا الموقع معطّل.\n";
	}
}
