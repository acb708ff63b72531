// switchyard's seamless router for nginx (ngx_http_js_module, njs >= 0.7).
//
// nginx is never reloaded in seamless mode: this router tells it, per
// request, which slot is live. The switch replaces the live-port file
// atomically (temp file, fsync, rename), so a read here sees either the old
// port or the new one, never a half-written file.
//
// Used as (see `switchyard-switch-traffic --print-nginx-config`):
//   js_import switchyard_router from .../router.js;
//   js_set $switchyard_upstream switchyard_router.upstream;
//   location / {
//       set $switchyard_live_port_file /var/lib/switchyard/APP/live-port;
//       set $switchyard_upstream_prefix APP;
//       proxy_pass http://$switchyard_upstream;
//   }
// and one `upstream APP_PORT { server 127.0.0.1:PORT; keepalive N; }` per slot,
// so the connections to each slot are pooled while the route stays variable.
//
// The file is read on every request: njs 0.7 (Debian 12) runs each request
// in a fresh VM, so a module-level cache would not outlive the request, and
// ngx.shared arrived only in njs 0.8. Reading a few bytes from the page cache
// costs an open, a read and a close, small beside proxying the request.
import fs from 'fs';

// Names an upstream that does not exist, so nginx answers 502 and its error
// log says why, rather than sending traffic to a guessed slot.
function unroutable(r, prefix, reason) {
    r.error('switchyard router: ' + reason);
    return prefix + '_live_port_unreadable';
}

function upstream(r) {
    var file = r.variables.switchyard_live_port_file;
    var prefix = r.variables.switchyard_upstream_prefix || 'switchyard';
    if (!file) {
        return unroutable(r, prefix, '$switchyard_live_port_file is not set in this location');
    }
    var text;
    try {
        text = fs.readFileSync(file, 'utf8');
    } catch (e) {
        return unroutable(r, prefix, file + ': cannot read the live port (' + e.message + ')');
    }
    var port = text.trim();
    if (!/^[0-9]{1,5}$/.test(port)) {
        return unroutable(r, prefix, file + ': expected the live port, found "' + port.slice(0, 40) + '"');
    }
    return prefix + '_' + port;
}

export default { upstream };
