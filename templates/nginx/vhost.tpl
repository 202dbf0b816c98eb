# Managed by aaPanel: site {{domain}}, revision {{revision}} ({{kind}}).
# Written by the panel's helper from templates/nginx/vhost.tpl. A change made
# here by hand shows as drift on the site's page; "Re-apply" writes the
# panel's version back.
server {
{{#listen}}
	listen {{.}};
{{/listen}}
	server_name {{names}};
	root {{root}};
	index {{index}};
	access_log {{access_log}};
	error_log {{error_log}};

	# ACME HTTP-01 challenges for this site's certificates (certbot --webroot).
	location ^~ /.well-known/acme-challenge/ {
		root {{acme_root}};
		default_type text/plain;
		try_files $uri =404;
	}
{{#https_redirect}}
	# The panel's probe: which revision of this site nginx serves (loopback only).
	location = /.well-known/aapanel-probe {
		allow 127.0.0.1;
		allow ::1;
		deny all;
		access_log off;
		default_type text/plain;
		return 200 "aapanel-probe {{domain}} {{revision}} enabled\n";
	}
	location ~ /\.(?!well-known/) {
		deny all;
	}

	# HTTP → HTTPS: everything but the probe and ACME challenges.
	location / {
		return 301 https://$host{{https_port_suffix}}$request_uri;
	}
{{/https_redirect}}
{{^https_redirect}}
{{> vhost-body}}
{{/https_redirect}}
}
{{#tls}}

# HTTPS for {{domain}}: the certificate {{tls_source}} ({{tls_cert}}).
server {
{{#tls_listen}}
	listen {{.}} ssl http2;
{{/tls_listen}}
	server_name {{names}};
	root {{root}};
	index {{index}};
	access_log {{access_log}};
	error_log {{error_log}};
	ssl_certificate {{tls_cert}};
	ssl_certificate_key {{tls_key}};
	ssl_protocols TLSv1.2 TLSv1.3;
	ssl_session_cache shared:aapanel_sites:10m;
	ssl_session_timeout 1d;

{{> vhost-body}}
}
{{/tls}}
