-- Pure-Lua SHA-256 and HMAC-SHA256 (Lua 5.4 integer bit operations).
--
-- The mock signs callbacks with its own code instead of the library's C HMAC so a
-- bug in the library cannot make a wrong signature look right on both ends.
local M = {}

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local MASK = 0xffffffff

local function rotr(x, n)
  return ((x >> n) | (x << (32 - n))) & MASK
end

-- Processes one 64-byte block starting at offset i of msg into state h.
local function block(h, msg, i)
  local w = {}
  for j = 1, 16 do
    w[j] = string.unpack(">I4", msg, i + (j - 1) * 4)
  end
  for j = 17, 64 do
    local a, b = w[j - 15], w[j - 2]
    local s0 = rotr(a, 7) ~ rotr(a, 18) ~ (a >> 3)
    local s1 = rotr(b, 17) ~ rotr(b, 19) ~ (b >> 10)
    w[j] = (w[j - 16] + s0 + w[j - 7] + s1) & MASK
  end
  local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
  for j = 1, 64 do
    local S1 = rotr(e, 6) ~ rotr(e, 11) ~ rotr(e, 25)
    local ch = (e & f) ~ (~e & g)
    local t1 = (hh + S1 + ch + K[j] + w[j]) & MASK
    local S0 = rotr(a, 2) ~ rotr(a, 13) ~ rotr(a, 22)
    local maj = (a & b) ~ (a & c) ~ (b & c)
    local t2 = (S0 + maj) & MASK
    hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & MASK, c, b, a, (t1 + t2) & MASK
  end
  h[1], h[2], h[3], h[4] = (h[1] + a) & MASK, (h[2] + b) & MASK, (h[3] + c) & MASK, (h[4] + d) & MASK
  h[5], h[6], h[7], h[8] = (h[5] + e) & MASK, (h[6] + f) & MASK, (h[7] + g) & MASK, (h[8] + hh) & MASK
end

--- Returns the 32-byte binary SHA-256 digest of msg.
function M.digest(msg)
  local len = #msg
  -- padding: 0x80, zeros to 56 mod 64, then the bit length as 64-bit big endian
  local pad = 64 - ((len + 9) % 64)
  if pad == 64 then pad = 0 end
  msg = msg .. "\128" .. string.rep("\0", pad) .. string.pack(">I8", len * 8)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  for i = 1, #msg, 64 do block(h, msg, i) end
  return string.pack(">I4I4I4I4I4I4I4I4", h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8])
end

local function tohex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

--- Lower-case hex SHA-256 of msg.
function M.hex(msg)
  return tohex(M.digest(msg))
end

--- Binary HMAC-SHA256 (RFC 2104) of msg under key.
function M.hmac(key, msg)
  if #key > 64 then key = M.digest(key) end
  key = key .. string.rep("\0", 64 - #key)
  local ipad = key:gsub(".", function(c) return string.char(c:byte() ~ 0x36) end)
  local opad = key:gsub(".", function(c) return string.char(c:byte() ~ 0x5c) end)
  return M.digest(opad .. M.digest(ipad .. msg))
end

--- Lower-case hex HMAC-SHA256.
function M.hmac_hex(key, msg)
  return tohex(M.hmac(key, msg))
end

return M
