#!/usr/bin/env python3
"""Writes the workloads of scripts/bench.sh into OUT (default target/bench/trees).

Every tree is also valid for `nginx -t -p TREE/nginx/ -c nginx.conf` (logs to /dev/null,
relative includes), so the peers parse exactly what conflint reads:

  small/    one 35-line nginx.conf
  big/      one 5,000-line nginx.conf of 1,000 servers
  debian/   Debian's layout: 200 sites in sites-available/, enabled through symlinks in
            sites-enabled/, and 200 PHP-FPM pools in php/8.2/fpm/pool.d/
  tree10/   ~10 MB: 316 sites of PHP vhosts with many locations, 763 commented pools,
            each with a `#` comment that `--fix` rewrites
  tree40/   ~40 MB: the same, four times over
  pooldup/  one pool of 20,000 settings, arrays and directives set again (FPM006's input)
"""
import os
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "target/bench/trees"

MAIN = """user www-data;
worker_processes auto;
pid {pid};
error_log /dev/null;
events {{
    worker_connections 1024;
}}
http {{
    include mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_timeout 65;
    client_max_body_size 8m;
    gzip on;
{body}}}
"""

MIME = "types {\n    text/html html htm;\n    text/css css;\n    application/javascript js;\n    image/png png;\n}\n"

FASTCGI_PARAMS = "".join(
    f"fastcgi_param {k} {v};\n"
    for k, v in [
        ("QUERY_STRING", "$query_string"), ("REQUEST_METHOD", "$request_method"),
        ("CONTENT_TYPE", "$content_type"), ("CONTENT_LENGTH", "$content_length"),
        ("SCRIPT_NAME", "$fastcgi_script_name"), ("REQUEST_URI", "$request_uri"),
        ("DOCUMENT_URI", "$document_uri"), ("DOCUMENT_ROOT", "$document_root"),
        ("SERVER_PROTOCOL", "$server_protocol"), ("REMOTE_ADDR", "$remote_addr"),
        ("SERVER_NAME", "$server_name"), ("HTTPS", "$https if_not_empty"),
    ]
)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def nginx_dir(tree):
    d = os.path.join(OUT, tree, "nginx")
    write(os.path.join(d, "mime.types"), MIME)
    write(os.path.join(d, "fastcgi_params"), FASTCGI_PARAMS)
    return d


def main_conf(d, body):
    # nginx -t writes nothing but checks the pid file's directory.
    write(os.path.join(d, "nginx.conf"), MAIN.format(pid=os.path.abspath(os.path.join(d, "nginx.pid")), body=body))


def small():
    d = nginx_dir("small")
    body = """    upstream app {
        server 127.0.0.1:8080;
    }
    server {
        listen 80;
        server_name example.com www.example.com;
        root /var/www/example/public;
        index index.php index.html;
        location / {
            try_files $uri $uri/ /index.php?$query_string;
        }
        location ~ \\.php$ {
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass unix:/run/php/php8.2-fpm.sock;
        }
        location /api/ {
            proxy_pass http://app;
        }
    }
"""
    main_conf(d, body)


def big():
    d = nginx_dir("big")
    body = "".join(
        f"    server {{ listen 80; server_name s{i}.example.com;\n"
        f"        root /var/www/s{i};\n"
        f"        location ~ \\.php$ {{ include fastcgi_params; fastcgi_pass 127.0.0.1:{9000 + i % 50}; }}\n"
        f"        location /up/ {{ proxy_pass http://127.0.0.1:{8000 + i % 50}; }}\n"
        f"    }}\n"
        for i in range(1000)
    )
    main_conf(d, body)


def vhost(i, locations):
    locs = "".join(
        f"""        location /app{j}/ {{
            try_files $uri $uri/ /app{j}/index.php?$query_string;
            expires 1h;
        }}
        location ~ ^/app{j}/.+\\.php$ {{
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_read_timeout 60s;
            fastcgi_pass unix:/run/php/php8.2-fpm-site{i}.sock;
        }}
        location /api{j}/ {{
            proxy_pass http://127.0.0.1:{8000 + j};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 30s;
        }}
"""
        for j in range(locations)
    )
    return f"""# site {i}
server {{
    listen 80;
    listen [::]:80;
    server_name site{i}.example.com www.site{i}.example.com;
    root /var/www/site{i}/public;
    index index.php index.html;
    add_header X-Frame-Options SAMEORIGIN;
    location / {{
        try_files $uri $uri/ /index.php?$query_string;
    }}
{locs}}}
"""


POOL_COMMENT = "".join(f"; {line}\n" for line in [
    "Per pool prefix",
    "It only applies on the following directives:",
    "- 'access.log'", "- 'slowlog'", "- 'listen' (unixsocket)", "- 'chroot'", "- 'chdir'",
    "- 'php_values'", "- 'php_admin_values'",
    "When not set, the global prefix (or /usr) applies instead.",
    "Note: This directive can also be relative to the global prefix.",
    "Default Value: none",
])


def pool(name, comment_blocks):
    # A `#` comment (FPM001, safely fixed to `;`) in the big trees gives `--fix` work to do.
    fixable = f"# pool {name}\n" if comment_blocks > 1 else ""
    return f"""[{name}]
{fixable}{POOL_COMMENT * comment_blocks}user = www-data
group = www-data
listen = /run/php/php8.2-fpm-{name}.sock
listen.owner = www-data
listen.group = www-data
pm = dynamic
pm.max_children = 5
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
pm.max_requests = 500
request_terminate_timeout = 60s
php_admin_value[error_log] = /var/log/php/{name}.log
php_admin_flag[log_errors] = on
php_value[memory_limit] = 128M
php_value[upload_max_filesize] = 8M
env[PATH] = /usr/local/bin:/usr/bin:/bin
"""


def fpm_tree(tree, pools, comment_blocks):
    d = os.path.join(OUT, tree, "php", "8.2", "fpm")
    write(os.path.join(d, "php-fpm.conf"), "[global]\npid = /run/php/php8.2-fpm.pid\nerror_log = /var/log/php8.2-fpm.log\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n")
    for i in range(pools):
        write(os.path.join(d, "pool.d", f"site{i}.conf"), pool(f"site{i}", comment_blocks))


def sites_tree(tree, sites, locations, pools, comment_blocks):
    d = nginx_dir(tree)
    main_conf(d, "    include sites-enabled/*;\n")
    for i in range(sites):
        write(os.path.join(d, "sites-available", f"site{i}"), vhost(i, locations))
        link = os.path.join(d, "sites-enabled", f"site{i}")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.islink(link):
            os.symlink(f"../sites-available/site{i}", link)
    fpm_tree(tree, pools, comment_blocks)


def pooldup():
    lines = ["[global]", "error_log = /var/log/fpm.log", "[www]", "user = www-data", "listen = /run/php/www.sock", "pm = static", "pm.max_children = 5"]
    for i in range(20000):
        lines.append([f"php_value[opt{i % 7000}] = {i}", f"env[VAR{i // 2}] = {i}", f"php_admin_flag[flag{i}] = on", f"pm.max_requests = {i}"][i % 4])
    write(os.path.join(OUT, "pooldup", "php-fpm.conf"), "\n".join(lines) + "\n")


def main():
    small()
    big()
    sites_tree("debian", 200, 2, 200, 1)
    sites_tree("tree10", 316, 36, 763, 8)
    sites_tree("tree40", 1264, 36, 3052, 8)
    pooldup()
    for tree in ["small", "big", "debian", "tree10", "tree40", "pooldup"]:
        total = 0
        for root, _, files in os.walk(os.path.join(OUT, tree)):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files if not os.path.islink(os.path.join(root, f)))
        print(f"{tree}: {total / 1e6:.2f} MB")


main()
