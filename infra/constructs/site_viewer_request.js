// Viewer-request CloudFront Function of the site (runtime cloudfront-js-2.0): folder URLs.
//
// The site links to folders (`en/`, `marques/sanofi/`, `archives/2018-04-30/`) and publish
// uploads `<folder>/index.html` keys. S3 behind origin access control has no folder index: the
// key `en/` does not exist and, without s3:ListBucket, S3 answers 403 AccessDenied. The
// distribution's default root object covers `/` only. So, before the cache:
//   - `/` and any URI ending with `/`: the request goes on for `<uri>index.html`;
//   - a last segment with no dot (`/en`, `/marques/sanofi`): 301 to `<uri>/`, query string kept.
//     A redirect, not a rewrite to `<uri>/index.html`: one canonical URL per page (one cache
//     entry, one address to share), and the page's relative links (`brands/sanofi/`,
//     `../assets/…`) resolve against the folder they were written for; served at `/en`, the
//     English leaderboard's `brands/sanofi/` would point at `/brands/sanofi/`;
//   - anything else (`/assets/site.1a2b3c.css`, `/downloads/…/scores.csv`, `/index.html`): as is.
// Tested on this file, by node: tests/infra/test_site_viewer_request.py, tests/e2e/test_site_served.py.

function querySuffix(querystring) {
    // CloudFront passes the query string as {name: {value, multiValue?: [{value}]}}, values as sent.
    var parts = [];
    for (var name in querystring) {
        var entry = querystring[name];
        var values = entry.multiValue ? entry.multiValue : [entry];
        for (var i = 0; i < values.length; i++) {
            parts.push(name + '=' + values[i].value);
        }
    }
    return parts.length ? '?' + parts.join('&') : '';
}

function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.charAt(uri.length - 1) === '/') {
        request.uri = uri + 'index.html';
        return request;
    }
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') !== -1) {
        return request;
    }
    // One leading slash: `//host` or `/\host` in a Location header would leave the site.
    var path = '/' + uri.replace(/^[\/\\]+/, '');
    return {
        statusCode: 301,
        statusDescription: 'Moved Permanently',
        headers: {
            location: { value: path + '/' + querySuffix(request.querystring) },
            'cache-control': { value: 'public, max-age=3600' }
        }
    };
}
