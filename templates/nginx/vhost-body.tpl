{{! The locations a site's HTTP and HTTPS servers share (vhost.tpl). }}
	# The panel's probe: which revision of this site nginx serves (loopback only).
	location = /.well-known/aapanel-probe {
		allow 127.0.0.1;
		allow ::1;
		deny all;
		access_log off;
		default_type text/plain;
		return 200 "aapanel-probe {{domain}} {{revision}} enabled\n";
	}
	# Never serve dot files (.git, .env, .htaccess) except /.well-known/.
	location ~ /\.(?!well-known/) {
		deny all;
	}
{{#error_404}}
	error_page 404 {{.}};
	location = {{.}} {
		internal;
	}
{{/error_404}}
{{#error_50x}}
	error_page 500 502 503 504 {{.}};
	location = {{.}} {
		internal;
	}
{{/error_50x}}
{{#static}}

	location / {
		try_files $uri $uri/ =404;
	}
{{/static}}
{{#php}}

	location / {
		try_files $uri $uri/ =404;
	}
	# PHP {{php_version}}: this site's own PHP-FPM pool, running as {{user}}.
	location ~ [^/]\.php(/|$) {
		fastcgi_split_path_info ^(.+?\.php)(/.*)$;
		try_files $fastcgi_script_name =404;
		include /etc/nginx/fastcgi_params;
		fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
		fastcgi_param PATH_INFO $fastcgi_path_info;
		fastcgi_index index.php;
		fastcgi_pass unix:{{php_socket}};
{{#intercept}}
		fastcgi_intercept_errors on;
{{/intercept}}
	}
{{/php}}
{{#proxy}}

	# Reverse proxy to {{upstream}}; WebSocket upgrades are passed through.
	location / {
		proxy_pass {{proxy_pass}};
		proxy_http_version 1.1;
		proxy_set_header Host $host;
		proxy_set_header X-Real-IP $remote_addr;
		proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
		proxy_set_header X-Forwarded-Proto $scheme;
		proxy_set_header Upgrade $http_upgrade;
		proxy_set_header Connection $http_connection;
		proxy_read_timeout 3600s;
		proxy_send_timeout 3600s;
{{#intercept}}
		proxy_intercept_errors on;
{{/intercept}}
	}
{{/proxy}}
