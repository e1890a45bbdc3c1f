-- The JSON codec (core.json, re-exported as dintero.json): decoding, encoding,
-- null and array markers, integers vs floats per Lua version, error messages
-- with byte offsets and key paths, limits, and the regression inputs found by
-- fuzzing. Strings use decimal escapes (\ddd) so the file parses on Lua 5.1.
local core = require "dintero.core"
local json = core.json

local HAS_INTEGERS = math.type ~= nil
local function is_integer(x) return math.type(x) == "integer" end
local function is_float(x) return math.type(x) == "float" end

local function nest(n, open, close)
  return string.rep(open, n) .. string.rep(close, n)
end

-- Deep equality; arrays must carry the marker on both sides.
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  if (getmetatable(a) == json.array_mt) ~= (getmetatable(b) == json.array_mt) then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function decode_fails(text, pattern)
  local v, msg = json.decode(text)
  assert.is_nil(v)
  assert.is_string(msg)
  assert.matches("^json: ", msg)
  if pattern then assert.matches(pattern, msg, 1, true) end
  return msg
end

local function encode_fails(value, expected, opts)
  local s, msg = json.encode(value, opts)
  assert.is_nil(s)
  assert.is_string(msg)
  if expected then assert.are.equal("json: " .. expected, msg) end
  return msg
end

describe("dintero.json", function()
  describe("surface", function()
    it("has decode, encode, null and array_mt", function()
      assert.is_function(json.decode)
      assert.is_function(json.encode)
      assert.are.equal("userdata", type(json.null))
      assert.is_table(json.array_mt)
    end)

    it("is re-exported by require 'dintero'", function()
      local dintero = require "dintero"
      assert.are.equal(json, dintero.json)
      assert.are.equal(json.null, dintero.null)
      assert.are.equal(json.array_mt, getmetatable(dintero.array()))
      local t = {}
      assert.are.equal(t, dintero.array(t))
      assert.are.equal("[]", json.encode(t))
    end)

    it("null is the NULL light userdata, equal to cjson.null", function()
      local ok, cjson = pcall(require, "cjson")
      if ok then assert.are.equal(cjson.null, json.null) end
      assert.are.equal(json.null, json.decode "null")
      assert.are.equal("null", json.encode(json.null))
    end)

    it("marks arrays with a metatable dkjson understands", function()
      assert.are.equal("array", json.array_mt.__jsontype)
    end)
  end)

  describe("misuse raises", function()
    it("on a decode argument that is not a string", function()
      assert.has_error(function() json.decode(123) end)
      assert.has_error(function() json.decode(nil) end)
      assert.has_error(function() json.decode({}) end)
      assert.has_error(function() json.decode() end)
    end)

    it("on bad options", function()
      assert.has_error(function() json.decode("1", "x") end)
      assert.has_error(function() json.decode("1", { bogus = 1 }) end)
      assert.has_error(function() json.decode("1", { max_depth = 0 }) end)
      assert.has_error(function() json.decode("1", { max_depth = 1.5 }) end)
      assert.has_error(function() json.decode("1", { max_depth = 10001 }) end)
      assert.has_error(function() json.decode("1", { max_depth = "3" }) end)
      assert.has_error(function() json.decode("1", { sort_keys = true }) end)
      assert.has_error(function() json.encode(1, { sort_keys = "yes" }) end)
      assert.has_error(function() json.encode(1, { max_depth = -1 }) end)
      assert.has_error(function() json.encode(1, { indent = 2 }) end)
      assert.has_error(function() json.encode(1, 5) end)
    end)

    it("names the unknown option", function()
      local ok, msg = pcall(json.decode, "1", { maxdepth = 3 })
      assert.is_false(ok)
      assert.matches("unknown option 'maxdepth'", msg, 1, true)
    end)

    it("on encode with no argument", function()
      assert.has_error(function() json.encode() end)
    end)

    it("accepts nil options", function()
      assert.are.equal(1, json.decode("1", nil))
      assert.are.equal("1", json.encode(1, nil))
      assert.are.equal("[1]", json.encode({ 1 }, {}))
    end)
  end)

  describe("decode", function()
    it("reads the literals", function()
      assert.is_true(json.decode "true")
      assert.is_false(json.decode "false")
      assert.are.equal(json.null, json.decode "null")
    end)

    it("accepts top-level scalars and surrounding whitespace", function()
      assert.are.equal(2, json.decode "2")
      assert.are.equal("a", json.decode '"a"')
      assert.are.equal(7, json.decode " \t\r\n7\n\t ")
    end)

    it("decodes objects and arrays", function()
      local v = json.decode '{"a": [1, 2, {"b": null}], "c": {"d": "e"}}'
      assert.are.equal(1, v.a[1])
      assert.are.equal(2, v.a[2])
      assert.are.equal(json.null, v.a[3].b)
      assert.are.equal("e", v.c.d)
      assert.are.equal(3, #v.a)
    end)

    it("keeps nulls inside arrays, so there are no holes", function()
      local v = json.decode "[null, 1, null]"
      assert.are.equal(3, #v)
      assert.are.equal(json.null, v[1])
      assert.are.equal(json.null, v[3])
    end)

    it("marks every decoded array, empty or not, and no object", function()
      local v = json.decode '{"e": [], "a": [[1], []], "o": {}}'
      assert.are.equal(json.array_mt, getmetatable(v.e))
      assert.are.equal(json.array_mt, getmetatable(v.a))
      assert.are.equal(json.array_mt, getmetatable(v.a[1]))
      assert.are.equal(json.array_mt, getmetatable(v.a[2]))
      assert.is_nil(getmetatable(v.o))
      assert.is_nil(getmetatable(v))
      assert.is_nil(next(v.o))
    end)

    it("lets the last of duplicate keys win", function()
      assert.are.equal(2, json.decode('{"a": 1, "a": 2}').a)
    end)

    it("reads keys that are not identifiers and empty keys", function()
      local v = json.decode '{"": 1, "a b": 2, "1": 3}'
      assert.are.equal(1, v[""])
      assert.are.equal(2, v["a b"])
      assert.are.equal(3, v["1"])
      assert.is_nil(v[1])
    end)

    it("decodes long arrays and long strings", function()
      local parts = {}
      for i = 1, 100000 do parts[i] = tostring(i) end
      local v = json.decode("[" .. table.concat(parts, ",") .. "]")
      assert.are.equal(100000, #v)
      assert.are.equal(100000, v[100000])
      local big = string.rep("abcdefgh", 131072)
      assert.are.equal(big, json.decode('"' .. big .. '"'))
    end)
  end)

  describe("numbers", function()
    it("decodes integer literals as integers (5.3+)", function()
      if not HAS_INTEGERS then return pending "no integer subtype on this Lua" end
      for _, s in ipairs { "72200", "0", "-5", "9223372036854775807", "-9223372036854775808" } do
        assert.is_true(is_integer(json.decode(s)), s)
      end
      assert.are.equal(math.maxinteger, json.decode "9223372036854775807")
      assert.are.equal(math.mininteger, json.decode "-9223372036854775808")
    end)

    it("decodes fractions, exponents and integers beyond int64 as floats (5.3+)", function()
      if not HAS_INTEGERS then return pending "no integer subtype on this Lua" end
      for _, s in ipairs { "1.0", "1e2", "1E2", "2.5", "-0.5", "1e-2", "9223372036854775808",
        "-9223372036854775809", "123456789012345678901234567890", "-0" } do
        assert.is_true(is_float(json.decode(s)), s)
      end
      assert.are.equal(100, json.decode "1e2")
      assert.are.equal(2 ^ 63, json.decode "9223372036854775808")
    end)

    it("keeps the sign of -0", function()
      local z = json.decode "-0"
      assert.are.equal(0, z)
      assert.are.equal(-math.huge, 1 / z)
      assert.are.equal(-math.huge, 1 / json.decode "-0.0")
    end)

    it("is exact for integers up to 2^53 on every Lua", function()
      assert.are.equal(9007199254740992, json.decode "9007199254740992")
      assert.are.equal(9007199254740991, json.decode "9007199254740991")
      assert.are.equal(-9007199254740991, json.decode "-9007199254740991")
      assert.are.equal("9007199254740991", json.encode(json.decode "9007199254740991"))
      assert.are.equal("-9007199254740991", json.encode(json.decode "-9007199254740991"))
      assert.are.equal("72200", json.encode(json.decode "72200"))
    end)

    it("decodes floats exactly", function()
      local cases = {
        ["0.1"] = 0.1, ["2.5"] = 2.5, ["-12.75"] = -12.75, ["1e-7"] = 1e-7, ["1.5e300"] = 1.5e300,
        ["5e-324"] = 5e-324, ["1.7976931348623157e308"] = 1.7976931348623157e308,
        ["2.2250738585072014e-308"] = 2.2250738585072014e-308, ["0.30000000000000004"] = 0.30000000000000004,
        ["123456789.123456789"] = 123456789.123456789, ["1E+2"] = 100, ["1e-400"] = 0,
        ["3.141592653589793238462643383279"] = 3.141592653589793,
        ["0.000000000000000000000000000001"] = 1e-30,
      }
      for s, want in pairs(cases) do
        assert.are.equal(want, json.decode(s), s)
      end
    end)

    it("rejects numbers that overflow to infinity", function()
      decode_fails("1e400", "number out of range at byte 1")
      decode_fails("[-1e400]", "number out of range at byte 2")
    end)

    it("rejects invalid number syntax", function()
      for _, s in ipairs { "01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity",
        "1.5e+", "-01", "1.e5", "--1", "1..2", "2.", "- 1" } do
        local v, msg = json.decode(s)
        assert.is_nil(v, s)
        assert.is_string(msg, s)
      end
      decode_fails("01", "leading zero in number at byte 1")
      decode_fails("1.", "expected a digit after '.', got end of input at byte 3")
      decode_fails("1e+x", "expected a digit in the exponent, got 'x' at byte 4")
    end)

    it("encodes integers without .0", function()
      assert.are.equal("72200", json.encode(72200))
      assert.are.equal("-1", json.encode(-1))
      assert.are.equal("0", json.encode(0))
      if HAS_INTEGERS then
        assert.are.equal("9223372036854775807", json.encode(math.maxinteger))
        assert.are.equal("-9223372036854775808", json.encode(math.mininteger))
      end
    end)

    it("keeps integral floats floats on 5.3+ and integers on 5.1", function()
      if HAS_INTEGERS then
        assert.are.equal("3.0", json.encode(3.0))
        assert.are.equal("-0.0", json.encode(-0.0))
        assert.are.equal("0.0", json.encode(0.0))
        assert.are.equal("1e+20", json.encode(1e20))
        assert.are.equal("9007199254740992.0", json.encode(2.0 ^ 53))
        assert.is_true(is_float(json.decode(json.encode(3.0))))
        assert.is_true(is_float(json.decode(json.encode(2 ^ 63))))
      else
        assert.are.equal("3", json.encode(3.0))
        assert.are.equal("9007199254740991", json.encode(2 ^ 53 - 1))
        assert.are.equal("1e+20", json.encode(1e20))
      end
    end)

    it("writes short forms that read back exactly", function()
      assert.are.equal("0.1", json.encode(0.1))
      assert.are.equal("2.5", json.encode(2.5))
      assert.are.equal("-12.75", json.encode(-12.75))
      assert.are.equal("1.1", json.encode(1.1))
      assert.are.equal("0.3333333333333333", json.encode(1 / 3))
      assert.are.equal("0.30000000000000004", json.encode(0.1 + 0.2))
      assert.are.equal("[1.5,25.25]", json.encode(json.decode "[1.5, 25.25]"))
    end)

    it("round-trips tricky floats bit for bit", function()
      local values = { 0.1, 1 / 3, 2 / 3, 1e-300, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308,
        123456789.123456789, -2.5, 1e21, 1e15 + 0.5, 4.35, 0.000001, 1e-7, 12345.6789, 2 ^ 60 + 0.0,
        -(2 ^ -1074), 1e22, 1e23, 9007199254740993.0, 0.1 + 0.2, 100.125, 3.14159265358979 }
      for _, x in ipairs(values) do
        local s = assert(json.encode(x))
        local back = json.decode(s)
        assert.are.equal(x, back, s)
        if HAS_INTEGERS then assert.is_true(is_float(back), s) end
      end
      for i = 1, 2000 do
        local x = (math.random() - 0.5) * 10 ^ math.random(-30, 30)
        assert.are.equal(x, json.decode(json.encode(x)), i)
      end
    end)

    it("refuses NaN and infinity, naming the key path", function()
      encode_fails(0 / 0, "cannot encode NaN")
      encode_fails(math.huge, "cannot encode inf")
      encode_fails(-math.huge, "cannot encode -inf")
      encode_fails({ amount = 0 / 0 }, "amount: cannot encode NaN")
      encode_fails({ items = { { price = math.huge } } }, "items[1].price: cannot encode inf")
    end)
  end)

  describe("strings", function()
    -- Strings are scanned eight bytes at a time: every byte value must be
    -- seen wherever it falls in a word, as a value and as a key.
    it("treats each byte the same at every offset of a long string", function()
      for at = 0, 17 do
        local left, right = ("a"):rep(at), ("q"):rep(20 - at) -- "\\q" is no escape
        for byte = 0, 127 do
          local c = string.char(byte)
          local raw = left .. c .. right
          local v, msg = json.decode('"' .. raw .. '"')
          local k = json.decode('{"' .. raw .. '":1}')
          if byte < 32 then
            assert.is_nil(v)
            assert.matches(("control character 0x%02X in string"):format(byte), msg, 1, true)
            assert.matches("at byte " .. (at + 2), msg, 1, true)
            assert.is_nil(k)
          elseif c == '"' or c == "\\" then
            assert.is_nil(v, raw)
          else
            assert.are.equal(raw, v)
            assert.are.equal(1, k[raw])
          end
          assert.are.equal(raw, json.decode(json.encode(raw)))
        end
        local utf8 = left .. "\195\184" .. right
        assert.are.equal(utf8, json.decode('"' .. utf8 .. '"'))
        assert.are.equal('"' .. utf8 .. '"', json.encode(utf8))
        assert.is_nil(json.decode('"' .. left .. "\255" .. right .. '"'))
        assert.is_nil(json.encode(left .. "\255" .. right))
      end
    end)

    it("decodes every escape", function()
      assert.are.equal('"\\/\b\f\n\r\t', json.decode [["\"\\\/\b\f\n\r\t"]])
      assert.are.equal("A", json.decode [["\u0041"]])
      assert.are.equal("\195\169", json.decode [["\u00e9"]])
      assert.are.equal("\195\169", json.decode [["\u00E9"]])
      assert.are.equal("\226\130\172", json.decode [["\u20ac"]])
      assert.are.equal("\239\191\191", json.decode [["\uffff"]])
      assert.are.equal("a\0b", json.decode [["a\u0000b"]])
      assert.are.equal("x\ny", json.decode [["x\u000ay"]])
    end)

    it("joins surrogate pairs into UTF-8", function()
      assert.are.equal("\240\159\152\128", json.decode [["\ud83d\ude00"]])
      assert.are.equal("\240\157\132\158", json.decode [["\uD834\uDD1E"]])
      assert.are.equal("\244\143\191\191", json.decode [["\udbff\udfff"]])
      assert.are.equal("\240\144\128\128", json.decode [["\ud800\udc00"]])
    end)

    it("passes valid UTF-8 through", function()
      local s = "\195\169\226\130\172\240\159\152\128 \230\151\165\230\156\172"
      assert.are.equal(s, json.decode('"' .. s .. '"'))
      assert.are.equal('"' .. s .. '"', json.encode(s))
    end)

    it("rejects lone surrogate escapes", function()
      decode_fails([["\ud800"]], "lone high surrogate \\uD800 in string at byte 2")
      decode_fails([["\ud800x"]], "lone high surrogate")
      decode_fails([["\ud800\u0041"]], "lone high surrogate")
      decode_fails([["\ud800\ud800"]], "lone high surrogate")
      decode_fails([["ab\udc00"]], "lone low surrogate \\uDC00 in string at byte 4")
    end)

    it("rejects bad escapes", function()
      decode_fails([["\x41"]], "invalid escape '\\x' in string at byte 2")
      decode_fails([["\u12"]], "invalid \\u escape")
      decode_fails([["\u12G4"]], "invalid \\u escape")
      decode_fails([["\U0041"]], "invalid escape")
      decode_fails('"\\', "unterminated string at byte 1")
      decode_fails('"\\"', "unterminated string at byte 1")
    end)

    it("rejects invalid UTF-8", function()
      local bad = {
        "\192\175",                 -- overlong '/'
        "\193\191",                 -- overlong
        "\224\128\175",             -- 3-byte overlong
        "\240\128\128\175",         -- 4-byte overlong
        "\237\160\128",             -- U+D800 encoded in UTF-8
        "\237\191\191",             -- U+DFFF encoded in UTF-8
        "\244\144\128\128",         -- U+110000
        "\248\136\128\128\128",     -- 5-byte form
        "\226\130",                 -- truncated
        "\128",                     -- lone continuation byte
        "\255", "\254",
        "\195",                     -- truncated at end of string
      }
      for _, b in ipairs(bad) do
        local v, msg = json.decode('"ab' .. b .. '"')
        assert.is_nil(v)
        assert.matches("invalid UTF-8 in string at byte 4", msg, 1, true)
      end
    end)

    it("rejects raw control characters and unterminated strings", function()
      decode_fails('"a\nb"', "control character 0x0A in string (must be escaped) at byte 3")
      decode_fails('"a\0b"', "control character 0x00")
      decode_fails('"a\31"', "control character 0x1F")
      decode_fails('"abc', "unterminated string at byte 1")
      decode_fails('["abc', "unterminated string at byte 2")
    end)

    it("accepts DEL and other printable ASCII raw", function()
      assert.are.equal("a\127b~", json.decode('"a\127b~"'))
    end)

    it("encodes quotes, backslashes and control characters", function()
      assert.are.equal([["a\"b\\c"]], json.encode 'a"b\\c')
      assert.are.equal([["\n\r\t\b\f"]], json.encode "\n\r\t\b\f")
      assert.are.equal([["\u0000\u0001\u001f"]], json.encode "\0\1\31")
      assert.are.equal([["/"]], json.encode "/")
      assert.are.equal('""', json.encode "")
      for c = 0, 127 do
        local ch = string.char(c)
        assert.are.equal(ch, json.decode(json.encode(ch)), c)
      end
    end)

    it("refuses invalid UTF-8, naming where it is", function()
      encode_fails("ab\255", "invalid UTF-8 at byte 3")
      encode_fails({ order = { items = { {}, {}, { description = "abcd\192\175" } } } },
        "order.items[3].description: invalid UTF-8 at byte 5")
      encode_fails({ ["a b"] = { "\237\160\128" } }, '["a b"][1]: invalid UTF-8 at byte 1')
      encode_fails({ ["k\255"] = 1 }, '["k\\xFF"]: invalid UTF-8 in key at byte 2')
    end)

    it("round-trips every byte sequence it accepts", function()
      for _, s in ipairs { "", "plain", "tab\there", "\0", "\240\159\152\128", "\127", "\"\\/" } do
        assert.are.equal(s, json.decode(json.encode(s)))
      end
    end)
  end)

  describe("encode of tables", function()
    it("writes {} for an empty plain table and [] for an empty marked one", function()
      assert.are.equal("{}", json.encode {})
      assert.are.equal("[]", json.encode(setmetatable({}, json.array_mt)))
      assert.are.equal('{"a":{},"b":[]}', json.encode({ a = {}, b = setmetatable({}, json.array_mt) },
        { sort_keys = true }))
    end)

    it("keeps [] and {} through a round trip", function()
      assert.are.equal('{"a":[],"b":{},"c":[[],{}]}',
        json.encode(json.decode '{"a":[],"b":{},"c":[[],{}]}', { sort_keys = true }))
    end)

    it("writes sequences as arrays", function()
      assert.are.equal("[1,2,3]", json.encode { 1, 2, 3 })
      assert.are.equal('[1,"a",true,false,null]', json.encode { 1, "a", true, false, json.null })
      assert.are.equal("[[1,[2]],{}]", json.encode { { 1, { 2 } }, {} })
    end)

    it("writes sequences built in any order", function()
      local t = {}
      t[3] = "c"
      t[1] = "a"
      t[2] = "b"
      assert.are.equal('["a","b","c"]', json.encode(t))
      local u = { [2] = 2, [1] = 1, [4] = 4, [3] = 3 }
      assert.are.equal("[1,2,3,4]", json.encode(u))
    end)

    it("writes marked tables as arrays", function()
      assert.are.equal("[1,2]", json.encode(setmetatable({ 1, 2 }, json.array_mt)))
    end)

    it("honours dkjson's __jsontype", function()
      assert.are.equal("[]", json.encode(setmetatable({}, { __jsontype = "array" })))
      assert.are.equal("{}", json.encode(setmetatable({}, { __jsontype = "object" })))
      encode_fails(setmetatable({ 1 }, { __jsontype = "object" }), "number key in a table marked as object")
    end)

    it("writes objects, optionally with sorted keys", function()
      local t = { b = 1, a = 2, c = { z = 1, y = { x = true } }, [""] = 0, B = 3 }
      assert.are.equal('{"":0,"B":3,"a":2,"b":1,"c":{"y":{"x":true},"z":1}}', json.encode(t, { sort_keys = true }))
      assert.are.same(t, json.decode(json.encode(t)))
    end)

    it("sorts keys bytewise, shorter prefix first", function()
      local t = { ab = 1, a = 2, ["a\0"] = 3, b = 4, ["\195\169"] = 5 }
      assert.are.equal('{"a":2,"a\\u0000":3,"ab":1,"b":4,"\195\169":5}', json.encode(t, { sort_keys = true }))
    end)

    it("encodes a top-level nil as null", function()
      assert.are.equal("null", json.encode(nil))
    end)

    it("refuses sparse arrays", function()
      encode_fails({ 1, 2, nil, 4 }, "sparse array (3 items but highest index 4)")
      encode_fails({ [2] = 1 }, "sparse array (1 items but highest index 2)")
      encode_fails({ list = { [1] = 1, [3] = 3 } }, "list: sparse array (2 items but highest index 3)")
    end)

    it("refuses mixed string and number keys", function()
      encode_fails({ 1, 2, x = 3 }, "mixed string and number keys")
      encode_fails({ x = 1, [1] = 2 }, "mixed string and number keys")
      encode_fails({ x = 1, [1] = 2 }, "mixed string and number keys", { sort_keys = true })
      encode_fails({ order = { items = { { 1, name = "a" } } } }, "order.items[1]: mixed string and number keys")
      encode_fails(setmetatable({ 1, x = 2 }, json.array_mt), "string key in a table marked as array")
      encode_fails(setmetatable({ x = 2 }, json.array_mt), "string key in a table marked as array")
    end)

    it("refuses other keys", function()
      encode_fails({ [true] = 1 }, "key that is neither a string nor a number")
      encode_fails({ [1.5] = 1 }, "number key that is not a positive integer")
      encode_fails({ [0] = 1 }, "number key that is not a positive integer")
      encode_fails({ [-1] = 1, [1] = 2 }, "number key that is not a positive integer")
      encode_fails({ a = { [{}] = 1 } }, "a: key that is neither a string nor a number")
    end)

    it("refuses values it cannot represent", function()
      encode_fails(print, "cannot encode a function")
      encode_fails({ cb = print }, "cb: cannot encode a function")
      encode_fails({ co = coroutine.create(function() end) }, "co: cannot encode a thread")
      encode_fails({ f = io.stdout }, "f: cannot encode a userdata")
    end)

    it("shows keys that are not identifiers in brackets", function()
      encode_fails({ ["a b"] = { ["x.y"] = print } }, '["a b"]["x.y"]: cannot encode a function')
      encode_fails({ ['q"'] = print }, '["q\\""]: cannot encode a function')
      encode_fails({ ["1a"] = print }, '["1a"]: cannot encode a function')
      encode_fails({ _ok9 = print }, "_ok9: cannot encode a function")
    end)

    it("reads tables raw, ignoring __index and __pairs", function()
      local t = setmetatable({ a = 1 }, { __index = function() return 2 end, __pairs = function() error "no" end })
      assert.are.equal('{"a":1}', json.encode(t))
    end)

    it("reuses its buffer safely across calls", function()
      local big = json.encode { string.rep("x", 3000000) }
      assert.are.equal(3000004, #big)
      assert.are.equal("[1]", json.encode { 1 })
      local a, b = json.encode { "a" }, json.encode { "b" }
      assert.are.equal('["a"]', a)
      assert.are.equal('["b"]', b)
    end)

    it("stays correct when a finalizer encodes in the middle of an encode", function()
      if _VERSION == "Lua 5.1" then return pending "tables have no __gc on 5.1" end
      local inner = {}
      local mt = { __gc = function() inner[#inner + 1] = json.encode { "finalizer", 1 } end }
      local big = {}
      for i = 1, 2000 do big[string.rep("k", 50) .. i] = string.rep("v", 30) end
      local want = json.encode(big, { sort_keys = true })
      for _ = 1, 20 do
        for _ = 1, 200 do setmetatable({}, mt) end
        assert.are.equal(want, json.encode(big, { sort_keys = true }))
      end
      collectgarbage "collect"
      assert.is_true(#inner > 0)
      for _, s in ipairs(inner) do assert.are.equal('["finalizer",1]', s) end
    end)

    it("leaves nothing behind after a failed encode", function()
      assert.is_nil(json.encode { 1, 2, print })
      assert.are.equal("[1,2]", json.encode { 1, 2 })
    end)
  end)

  describe("errors", function()
    it("say what was expected and at which byte (1-based)", function()
      decode_fails('{"a" 1}', "json: expected ':' after object key, got '1' at byte 6")
      decode_fails('{"order": {"amount" 1}}', "expected ':' after object key, got '1' at byte 21")
      decode_fails("[1,]", "expected a value, got ']' at byte 4")
      decode_fails("[1 2]", "expected ',' or ']' in array, got '2' at byte 4")
      decode_fails('{"a":1 "b":2}', "expected ',' or '}' in object, got '\"' at byte 8")
      decode_fails('{"a":1,}', "expected a string key in object, got '}' at byte 8")
      decode_fails("{1:2}", "expected a string key in object, got '1' at byte 2")
      decode_fails("", "expected a value, got end of input at byte 1")
      decode_fails("   ", "expected a value, got end of input at byte 4")
      decode_fails("[", "expected a value, got end of input at byte 2")
      decode_fails("[1", "expected ',' or ']' in array, got end of input at byte 3")
      decode_fails("tru", "expected a value, got 't' at byte 1")
      decode_fails("nul", "expected a value")
      decode_fails("\1", "expected a value, got byte 0x01 at byte 1")
    end)

    it("reject trailing garbage but allow trailing whitespace", function()
      decode_fails("[1] x", "expected end of input after the value, got 'x' at byte 5")
      decode_fails("1 2", "at byte 3")
      decode_fails("{}}", "at byte 3")
      decode_fails("[1]\0", "got byte 0x00 at byte 4")
      assert.are.equal(1, json.decode "1 \n\t\r")
    end)

    it("only allow the four JSON whitespace characters", function()
      decode_fails("\f1", "got byte 0x0C")
      decode_fails("\v1")
      decode_fails("\194\1601")
      decode_fails("\239\187\1911") -- a UTF-8 BOM
    end)

    it("are plain strings returned, never raised", function()
      local ok, v, msg = pcall(json.decode, "{")
      assert.is_true(ok)
      assert.is_nil(v)
      assert.are.equal("string", type(msg))
    end)
  end)

  describe("limits", function()
    it("decodes nesting up to 1000 and refuses deeper", function()
      assert.is_table(json.decode(nest(1000, "[", "]")))
      decode_fails(nest(1001, "[", "]"), "nesting deeper than 1000 at byte 1001")
      decode_fails(string.rep('{"a":', 1001) .. "1" .. string.rep("}", 1001), "nesting deeper than 1000")
      decode_fails(string.rep("[", 100000), "nesting deeper than 1000")
    end)

    it("takes max_depth per call, without changing later calls", function()
      local v, msg = json.decode("[[[1]]]", { max_depth = 2 })
      assert.is_nil(v)
      assert.are.equal("json: nesting deeper than 2 at byte 3", msg)
      assert.is_table(json.decode("[[1]]", { max_depth = 2 }))
      assert.is_table(json.decode(nest(1000, "[", "]")))
      assert.is_table(json.decode(nest(3000, "[", "]"), { max_depth = 3000 }))
    end)

    it("limits encode depth, which also stops cycles", function()
      local deep = json.decode(nest(1000, "[", "]"))
      assert.are.equal(nest(1000, "[", "]"), json.encode(deep))
      local wrapped = { deep }
      assert.matches("nesting deeper than 1000", select(2, json.encode(wrapped)), 1, true)
      assert.is_nil(json.encode({ { { 1 } } }, { max_depth = 2 }))
      assert.are.equal("[[[1]]]", json.encode({ { { 1 } } }, { max_depth = 3 }))
      local t = {}
      t.self = t
      local msg = encode_fails(t)
      assert.matches("self.self", msg, 1, true)
      assert.matches("nesting deeper than 1000 (a cycle?)", msg, 1, true)
      local a = {}
      a[1] = a
      assert.matches("(a cycle?)", encode_fails(a), 1, true)
    end)
  end)

  describe("round trips", function()
    local doc = [==[
      {"id": "T12345678.4ZJfu9tQAxWf6xgdLZPHMT", "amount": 72200, "currency": "NOK",
       "items": [{"line_id": "1", "quantity": 1.5, "amount": 29990, "vat": 25,
                  "description": "Kaffe \u00e6\u00f8\u00e5 \"special\"\n"}],
       "events": [], "metadata": {}, "nothing": null, "ok": true, "ratio": 0.125,
       "nested": [[[]], [{}], [null, false]], "emoji": "\ud83d\ude00"}
    ]==]

    it("decode -> encode -> decode is the identity", function()
      local v = assert(json.decode(doc))
      local text = assert(json.encode(v))
      assert.is_true(same(v, json.decode(text)))
      assert.are.equal(json.encode(v, { sort_keys = true }), json.encode(json.decode(text), { sort_keys = true }))
      if HAS_INTEGERS then
        assert.is_true(is_integer(json.decode(text).amount))
        assert.is_true(is_float(json.decode(text).items[1].quantity))
      end
    end)

    it("is stable with sorted keys", function()
      local a = json.encode(json.decode(doc), { sort_keys = true })
      local b = json.encode(json.decode(a), { sort_keys = true })
      assert.are.equal(a, b)
      assert.matches('^{"amount":72200,"currency":"NOK","emoji":"\240\159\152\128","events":%[%]', a)
    end)
  end)


  -- The decoder keeps recent object keys in a cache of 512 slots (src/strcache.c):
  -- whatever it holds, every key must come back exactly as written.
  describe("key cache", function()
    local function object_with(keys)
      local parts = {}
      for i, k in ipairs(keys) do parts[i] = ('"%s":%d'):format(k, i) end
      return "{" .. table.concat(parts, ",") .. "}"
    end

    local function check_keys(keys)
      local v = assert(json.decode(object_with(keys)))
      local count = 0
      for _ in pairs(v) do count = count + 1 end
      assert.are.equal(#keys, count)
      for i, k in ipairs(keys) do assert.are.equal(i, v[k], k) end
    end

    it("returns the right key when thousands of keys share 512 slots", function()
      local keys = {}
      for i = 1, 5000 do keys[i] = ("k%d_%s"):format(i, ("x"):rep(i % 37)) end
      for _ = 1, 3 do check_keys(keys) end
    end)

    it("tells apart keys that share their length and outer bytes", function()
      local keys = {}
      -- 17 bytes each, the same first and last 8: all of them hash to one slot.
      for i = 32, 126 do
        if i ~= 34 and i ~= 92 then keys[#keys + 1] = "prefix__" .. string.char(i) .. "__suffix" end
      end
      check_keys(keys)
      check_keys { "a", "b", "ab", "ba", "aa", "address_line", "address_line_2", "" }
    end)

    -- A slot matches on length + first and last 8 bytes, and compares the rest
    -- only beyond 16 bytes: one differing byte must tell keys apart wherever it is.
    it("tells apart keys that differ in one byte, at every length and position", function()
      for n = 1, 40 do
        local base = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"):sub(1, n)
        for p = 1, n do
          local other = base:sub(1, p - 1) .. "_" .. base:sub(p + 1)
          assert.are.same({ [base] = 1 }, json.decode(object_with { base }))
          local v = assert(json.decode(object_with { other }))
          assert.are.equal(1, v[other], other)
          assert.is_nil(v[base], other)
        end
      end
    end)

    it("handles keys at and around the 40-byte limit, escaped and non-ASCII keys", function()
      local keys = {}
      for n = 36, 44 do keys[#keys + 1] = ("k"):rep(n) end
      for n = 36, 44 do keys[#keys + 1] = ("k"):rep(n - 1) .. "z" end
      check_keys(keys)
      local v = assert(json.decode('{"a\\u0062c": 1, "abc2": 2, "\195\184st": 3, "\\"q\\"": 4}'))
      assert.are.equal(1, v.abc)
      assert.are.equal(2, v.abc2)
      assert.are.equal(3, v["\195\184st"])
      assert.are.equal(4, v['"q"'])
    end)

    it("keeps memory bounded when every document brings new keys", function()
      local function churn(from)
        for d = from, from + 199 do
          local keys = {}
          for i = 1, 100 do keys[i] = ("doc%d_key%d"):format(d, i) end
          assert(json.decode(object_with(keys)))
        end
        collectgarbage "collect"
        collectgarbage "collect"
        return collectgarbage "count"
      end
      local first = churn(0)
      local later = churn(200)
      for r = 2, 5 do later = math.max(later, churn(r * 200)) end
      -- The cache itself (512 anchored keys of at most 40 bytes and their slots) is
      -- about 60 KiB at worst, and full after the first churn: later ones add nothing.
      assert.is_true(later - first < 64, ("grew %.1f KiB"):format(later - first))
    end)

    it("is per Lua state and survives a full collection", function()
      check_keys { "id", "amount", "currency" }
      collectgarbage "collect"
      check_keys { "id", "amount", "currency" }
    end)
  end)
  describe("locale", function()
    it("reads and writes '.' whatever LC_NUMERIC says", function()
      local old = os.setlocale(nil, "numeric")
      local set
      for _, name in ipairs { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "nb_NO.UTF-8", "de_DE" } do
        set = os.setlocale(name, "numeric")
        if set then break end
      end
      if not set then return pending "no locale with a decimal comma installed" end
      local ok, err = pcall(function()
        assert.are.equal(1.5, json.decode "1.5")
        assert.are.equal(1.2345678901234567e-30, json.decode "1.2345678901234567e-30")
        assert.are.equal("[1.5,0.3333333333333333]", json.encode { 1.5, 1 / 3 })
      end)
      os.setlocale(old, "numeric")
      assert(ok, err)
    end)
  end)

  describe("fuzzing regressions", function()
    -- The fuzzers (fuzz/*.c, see docs/json.md "Fuzzing") have found no crash
    -- so far; these are the edges they were aimed at (exponent clamping, long
    -- mantissas, truncated escapes). A crash input found later goes here.
    local cases = {
      { "[1e-2147483649]", 0 },
      { "[1e2147483648]" },
      { "-0e0", 0 },
      { "[0.0000000000000000000000000000000000000000000000000000000000001e61]", 1 },
      { '"\\ud800\\' },
      { '"\\u' },
      { "[" .. string.rep("1", 300) .. "]", tonumber(string.rep("1", 300)) },
      { "[" .. string.rep("1", 400) .. "]" },
    }
    for i, c in ipairs(cases) do
      it("case " .. i, function()
        local v = json.decode(c[1])
        if c[2] == nil then
          assert.is_nil(v)
        else
          if type(v) == "table" then v = v[1] end
          assert.are.equal(c[2], v)
        end
      end)
    end
  end)
end)
