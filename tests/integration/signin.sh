# shellcheck shell=bash
# Signing in like a browser, shared by the integration tests (lib.sh) and
# the benchmark (bench/run.sh): the form's hidden CSRF token, the login
# form's double-submit cookie, the Origin header of the panel.

# form_token JAR URL: GET URL with the cookies of JAR (updated) and print the
# value of the form's hidden csrf input.
form_token() {
	curl -s -c "$1" -b "$1" "$2" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1
}

# signin ORIGIN JAR USER PASSWORD [BASE]: sign in at ORIGIN$BASE/login (a
# fresh JAR); prints the HTTP status of the POST (303 when signed in, or
# on to /login/2fa for an account with two-factor).
signin() {
	local origin=$1 jar=$2 user=$3 pw=$4 base=${5:-} tok
	rm -f "$jar"
	tok=$(form_token "$jar" "$origin$base/login")
	curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" -H "Origin: $origin" \
		--data-urlencode "csrf=$tok" --data-urlencode "username=$user" --data-urlencode "password=$pw" \
		"$origin$base/login"
}
