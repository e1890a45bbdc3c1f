rockspec_format = "3.0"
package = "dintero"
version = "scm-1"
source = {
  url = "git+https://example.invalid/dintero-lua.git",
}
description = {
  summary = "Client for the Dintero Checkout API: C core (libcurl, JSON, tokens) with a thin Lua layer",
  detailed = [[
Create checkout sessions, take payments, capture, refund and void transactions, move money
between sellers and read settlements and reports. Includes a stateful mock server for offline
testing and callback signature verification.
]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
}
external_dependencies = {
  CURL = { header = "curl/curl.h", library = "curl" },
  OPENSSL = { header = "openssl/hmac.h", library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    ["dintero.core"] = {
      sources = {
        "src/buf.c", "src/core.c", "src/lerror.c", "src/ljson.c", "src/lcrypto.c",
        "src/signature.c", "src/lclient.c", "src/http.c", "src/token.c", "src/headers.c",
      },
      libraries = { "curl", "crypto" },
      incdirs = { "$(CURL_INCDIR)", "$(OPENSSL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)" },
    },
  },
  install = {
    bin = { ["dintero-mock"] = "bin/dintero-mock" },
  },
}
