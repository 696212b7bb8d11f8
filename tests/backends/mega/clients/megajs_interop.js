'use strict'
// megajs (MEGA's unofficial JavaScript SDK, https://github.com/qgustavor/mega) against a MEGA API server, normally
// the local emulator: log in, list, upload and download (megajs verifies each download's MAC), mkdir, rename,
// move, copy, delete, quota, file and folder links opened with File.fromURL, and the sc channel.
// Run by tests/backends/mega/test_megajs_interop.py; usable by hand against `syncer mega-emulator`.
//
// Environment (the password never goes on a command line):
//   MEGA_GATEWAY   API base URL ending in '/', e.g. http://127.0.0.1:4444/ (megajs's `gateway` option)
//   MEGA_EMAIL, MEGA_PASSWORD
//   MEGAJS_EXTERNAL_SC=1  at the end, print {"external_sc": {"parent": <handle>}} on stdout and read one line
//                  from stdin: the name of a folder another client creates under that parent; megajs must
//                  then report it as added through the sc channel.
//   MEGAJS_VERIFY  instead of all that: a JSON list of {"handle", "sha256"} to download and compare; the report's
//                  "verify" maps each handle to "ok" or the error megajs gave.
// Progress goes to stderr; the last line on stdout is a JSON report. Exit status 0 = every check passed.

const crypto = require('crypto')
const readline = require('readline')
const mega = require('megajs')

const GATEWAY = process.env.MEGA_GATEWAY
const EMAIL = process.env.MEGA_EMAIL
const PASSWORD = process.env.MEGA_PASSWORD
const EXTERNAL_SC = process.env.MEGAJS_EXTERNAL_SC === '1'
const VERIFY = process.env.MEGAJS_VERIFY
const EVENT_TIMEOUT_MS = 10000
const SIZES = [0, 1, 16, 131072, 300000, 5 * 1024 * 1024 + 1]

// the version megajs was installed at (its package.json is not exported, so read it from disk)
const MEGAJS_VERSION = JSON.parse(require('fs').readFileSync(
  require('path').join(require.resolve('megajs'), '..', '..', 'package.json'), 'utf8')).version
const report = { megajs: MEGAJS_VERSION, checks: [], files: {} }

function log (...args) { console.error('[megajs]', ...args) }
function check (condition, what) {
  if (!condition) throw new Error('check failed: ' + what)
  report.checks.push(what)
  log('ok:', what)
}
function content (size, seed) {
  // deterministic bytes (a seeded xorshift), so a failure is reproducible
  const out = Buffer.alloc(size)
  let x = (seed * 2654435761 + 1) >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    out[i] = x & 255
  }
  return out
}
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex')
const b64 = (buf) => Buffer.from(buf).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

function login (options = {}) {
  const storage = new mega.Storage({ email: EMAIL, password: PASSWORD, gateway: GATEWAY, ...options })
  return storage.ready
}
// An API object for anonymous use (file and folder links) that talks to GATEWAY instead of g.api.mega.co.nz.
function anonymousApi () { return new mega.API(false, { gateway: GATEWAY }) }
// megajs builds some File objects without an API of their own (the nodes listed by a folder link, the link
// importFile resolves from a URL string): those use API.getGlobalApi(), made on first use with the default
// gateway. Give it ours first.
mega.API.globalApi = anonymousApi()

function paths (node, prefix = '') {
  const out = {}
  for (const child of node.children || []) {
    const path = prefix + child.name
    out[path] = child.directory ? 'dir' : child.size
    if (child.directory) Object.assign(out, paths(child, path + '/'))
  }
  return out
}

// Resolves with the first event ``name`` of ``emitter`` whose arguments satisfy ``predicate``.
function nextEvent (emitter, name, predicate, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, listener)
      reject(new Error(`no '${name}' event for ${what} within ${EVENT_TIMEOUT_MS} ms`))
    }, EVENT_TIMEOUT_MS)
    function listener (...args) {
      if (!predicate(...args)) return
      clearTimeout(timer)
      emitter.off(name, listener)
      resolve(args)
    }
    emitter.on(name, listener)
  })
}

async function readLine () {
  const lines = readline.createInterface({ input: process.stdin })
  for await (const line of lines) { lines.close(); return line.trim() }
  throw new Error('stdin closed before the external client answered')
}

// Downloads files another client uploaded; records what megajs made of each (its MAC check included).
async function verify (storage, wanted) {
  report.verify = {}
  for (const { handle, sha256: expected } of wanted) {
    const file = storage.files[handle]
    try {
      if (!file) throw new Error('not in the tree')
      const data = await file.downloadBuffer()
      report.verify[handle] = sha256(data) === expected ? 'ok' : 'different bytes'
    } catch (error) {
      report.verify[handle] = String(error.message || error)
    }
  }
}

async function main () {
  for (const [name, value] of Object.entries({ MEGA_GATEWAY: GATEWAY, MEGA_EMAIL: EMAIL, MEGA_PASSWORD: PASSWORD })) {
    if (!value) throw new Error(name + ' is not set')
  }
  // -- login and the tree --------------------------------------------------------------------------------------
  const storage = await login({ keepalive: !VERIFY })
  check(storage.root && storage.trash && storage.inbox, 'login: f answer has Cloud Drive, Inbox and Rubbish Bin')
  check(/^[\w-]{11}$/.test(storage.user), 'ug: user handle of 11 characters')
  report.user = storage.user
  if (VERIFY) {
    await verify(storage, JSON.parse(VERIFY))
    report.ok = true
    return
  }
  report.tree = paths(storage.root)

  const top = await storage.mkdir(`megajs ünïcødé ${crypto.randomBytes(3).toString('hex')}`)
  check(top.directory && storage.root.children.includes(top), 'mkdir in the Cloud Drive')
  report.top = top.nodeId

  // -- uploads and downloads ---------------------------------------------------------------------------------------
  const uploaded = {}
  for (const size of SIZES) {
    const data = content(size, size + 1)
    const name = `ファイル ${size} ü.bin`
    // megajs encrypts a Buffer source in place: give it a copy
    const file = await top.upload({ name, size }, Buffer.from(data)).complete
    check(file.size === size && file.name === name, `upload ${size} bytes`)
    const back = await file.downloadBuffer()
    check(back.length === size && sha256(back) === sha256(data), `download ${size} bytes byte-identical (MAC verified)`)
    uploaded[size] = { file, data }
    report.files[size] = { handle: file.nodeId, key: b64(file.key), sha256: sha256(data) }
  }
  // a ranged download (no MAC check possible): 1000 bytes straddling the first chunk boundary
  const big = uploaded[300000]
  const part = await big.file.downloadBuffer({ start: 131000, end: 131999 })
  check(part.equals(big.data.subarray(131000, 132000)), 'ranged download 131000-131999')

  // -- a second session sees everything in its f answer ------------------------------------------------------------
  const other = await login({ keepalive: false })
  const listed = paths(other.files[top.nodeId])
  for (const size of SIZES) check(listed[`ファイル ${size} ü.bin`] === size, `second session lists ${size}-byte file`)

  // -- rename, move, copy, delete (own changes come back on the sc channel) ---------------------------------------
  const sub = await top.mkdir('sub folder ✓')
  check(sub.parent === top, 'mkdir in a subfolder')
  const one = uploaded[1].file
  await one.rename('renamed ✓.bin')
  check(one.name === 'renamed ✓.bin', 'rename (a with at)')
  const moved = nextEvent(storage, 'move', (file) => file === one, 'the moved file')
  await one.moveTo(sub)
  await moved
  check(one.parent === sub && sub.children.includes(one), 'move: d + t packets moved the node in the local tree')
  await uploaded[16].file.copyTo(sub)
  const removed = nextEvent(storage, 'delete', (file) => file === uploaded[16].file, 'the deleted file')
  await uploaded[16].file.delete(true)
  await removed
  check(!top.children.includes(uploaded[16].file), 'permanent delete (d)')
  const trashed = nextEvent(storage, 'move', (file) => file === uploaded[0].file, 'the trashed file')
  await uploaded[0].file.delete()
  await trashed
  check(uploaded[0].file.parent === storage.trash, 'delete to the Rubbish Bin (m)')

  const fresh = await login({ keepalive: false })
  const after = paths(fresh.files[top.nodeId])
  check(after['sub folder ✓/renamed ✓.bin'] === 1, 'another session sees the rename and the move')
  check(after['sub folder ✓/ファイル 16 ü.bin'] === 16, 'another session sees the copy (p with an existing node)')
  check(!('ファイル 16 ü.bin' in after) && !('ファイル 0 ü.bin' in after), 'another session misses the deleted files')
  check(paths(fresh.trash)['ファイル 0 ü.bin'] === 0, 'another session finds the trashed file in the Rubbish Bin')
  const copied = fresh.files[top.nodeId].navigate('sub folder ✓/ファイル 16 ü.bin')
  check((await copied.downloadBuffer()).equals(uploaded[16].data), 'the copy downloads byte-identical')

  // -- quota ---------------------------------------------------------------------------------------------------------
  const info = await storage.getAccountInfo()
  check(typeof info.spaceUsed === 'number' && info.spaceUsed >= 5 * 1024 * 1024 && info.spaceTotal > info.spaceUsed,
    'uq: used and total storage')
  check(info.type === 0, 'uq with pro: plan type (utype) free')
  report.account = info

  // -- file link ---------------------------------------------------------------------------------------------------
  const linked = uploaded[300000]
  const fileUrl = await linked.file.link()
  check(/^https:\/\/mega\.nz\/file\/[\w-]{8}#[\w-]{43}$/.test(fileUrl), 'export a file link (l)')
  const again = await linked.file.link()
  check(again === fileUrl, 'the same link on a second export')
  const publicFile = mega.File.fromURL(fileUrl, { api: anonymousApi() })
  await publicFile.loadAttributes()
  check(publicFile.name === linked.file.name && publicFile.size === 300000, 'File.fromURL: name and size (g with p)')
  check((await publicFile.downloadBuffer()).equals(linked.data), 'File.fromURL: download byte-identical')
  const imported = await sub.importFile(fileUrl)
  check(imported.name === linked.file.name && imported.parent === sub, 'import a file link (p with ph)')

  // -- folder link ---------------------------------------------------------------------------------------------------
  const folderUrl = await top.link()
  check(/^https:\/\/mega\.nz\/folder\/[\w-]{8}#[\w-]{22}$/.test(folderUrl), 'export a folder link (s2 + l)')
  const publicFolder = mega.File.fromURL(folderUrl, { api: anonymousApi() })
  await publicFolder.loadAttributes()
  check(publicFolder.name === top.name, 'folder link: the folder name (f with n=)')
  const shown = paths(publicFolder)
  check(shown['sub folder ✓/renamed ✓.bin'] === 1 && shown['ファイル 5242881 ü.bin'] === 5242881,
    'folder link: the whole subtree')
  const inside = publicFolder.navigate('ファイル 131072 ü.bin')
  check((await inside.downloadBuffer()).equals(uploaded[131072].data), 'folder link: download a file (g, n=)')
  const nested = mega.File.fromURL(`${folderUrl}/file/${uploaded[1].file.nodeId}`, { api: anonymousApi() })
  const loaded = await nested.loadAttributes()
  check(loaded.name === 'renamed ✓.bin' && (await loaded.downloadBuffer()).equals(uploaded[1].data),
    'folder link pointing at a file inside')

  // removing the links
  await linked.file.unshare()
  const dead = mega.File.fromURL(fileUrl, { api: anonymousApi() })
  let deadError = null
  try { await dead.loadAttributes() } catch (error) { deadError = error }
  check(deadError && /ENOENT/.test(deadError.message), 'a removed file link answers ENOENT')
  await top.unshare()
  const closed = mega.File.fromURL(folderUrl, { api: anonymousApi() })
  let closedError = null
  try { await closed.loadAttributes() } catch (error) { closedError = error }
  check(closedError && /ENOENT/.test(closedError.message), 'a removed folder link answers ENOENT')
  const later = await login({ keepalive: false })
  check(!later.files[top.nodeId].shared && !later.files[linked.file.nodeId].shared,
    'another session no longer lists either link')
  later.close()

  // -- sc: changes made by another session ------------------------------------------------------------------------
  const name = 'from another session ✓'
  const added = nextEvent(storage, 'add', (file) => file.name === name, 'the other session\'s folder')
  const otherTop = other.files[top.nodeId]
  await otherTop.mkdir(name)
  const [folder] = await added
  check(folder.parent === top, 'sc: a folder made by another session arrives (t packet)')
  const updated = nextEvent(storage, 'update', (file) => file === folder, 'the renamed folder')
  await other.files[folder.nodeId].rename('renamed elsewhere ✓')
  await updated
  check(folder.name === 'renamed elsewhere ✓', 'sc: a rename by another session arrives (u packet)')

  if (EXTERNAL_SC) {
    // the packet may come in before the other client's answer on stdin: remember every arrival
    const arrived = []
    storage.on('add', (file) => { if (file.parent === top) arrived.push(file.name) })
    console.log(JSON.stringify({ external_sc: { parent: top.nodeId } }))
    const expected = await readLine()
    if (!arrived.includes(expected)) {
      await nextEvent(storage, 'add', (file) => file.parent === top && file.name === expected, 'the external folder')
    }
    check(top.children.some((file) => file.name === expected), 'sc: a folder made by an independent client arrives')
  }

  await Promise.all([other.close(), fresh.close(), storage.close()])
  report.ok = true
}

main().then(() => {
  console.log(JSON.stringify(report))
  process.exit(0)
}, (error) => {
  report.ok = false
  report.error = String(error && error.stack || error)
  console.log(JSON.stringify(report))
  process.exit(1)
})
