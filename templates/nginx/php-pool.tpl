; Managed by aaPanel: the PHP-FPM pool of site {{domain}}, revision {{revision}}.
; Written by the panel's helper from templates/nginx/php-pool.tpl.
[{{pool}}]
user = {{user}}
group = {{group}}
listen = {{php_socket}}
listen.owner = {{user}}
listen.group = {{listen_group}}
listen.mode = 0660
pm = ondemand
pm.max_children = 5
pm.process_idle_timeout = 10s
pm.max_requests = 500
chdir = {{root}}
clear_env = yes
php_admin_value[open_basedir] = {{home}}/
php_admin_value[upload_tmp_dir] = {{home}}/tmp
php_admin_value[session.save_path] = {{home}}/tmp
php_admin_value[sys_temp_dir] = {{home}}/tmp
php_admin_flag[log_errors] = on
php_admin_value[error_log] = {{home}}/log/php-error.log
