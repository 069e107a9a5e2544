// Test and benchmark player: WHEP (RTCPeerConnection) and HLS (hls.js), same-origin.
window.argus = {
  pc: null,
  video: null,
  frames: [],

  makeVideo() {
    const video = document.createElement('video');
    video.muted = true; video.autoplay = true; video.playsInline = true;
    document.body.appendChild(video);
    this.video = video;
    return video;
  },

  async whep(url, token, waitGathering, withAudio) {
    const t0 = performance.now();
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.addTransceiver('video', {direction: 'recvonly'});
    if (withAudio) pc.addTransceiver('audio', {direction: 'recvonly'});
    const video = this.makeVideo();
    pc.ontrack = (e) => {
      // Optional: ask Chrome's jitter buffer for no added delay (benchmarks compare).
      if (this.jitterTarget !== undefined && 'jitterBufferTarget' in e.receiver) {
        e.receiver.jitterBufferTarget = this.jitterTarget;
      }
      // Audio (when offered and answered) joins the element's stream of the video.
      if (e.track.kind === 'audio' && video.srcObject) {
        video.srcObject.addTrack(e.track);
        return;
      }
      video.srcObject = e.streams[0] || new MediaStream([e.track]);
    };
    await pc.setLocalDescription(await pc.createOffer());
    if (waitGathering) {
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') resolve();
        });
        setTimeout(resolve, 2000);
      });
    }
    const resp = await fetch(url, {
      method: 'POST', body: pc.localDescription.sdp,
      headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token},
    });
    const tAnswer = performance.now();
    if (resp.status !== 201) return {status: resp.status, body: await resp.text()};
    await pc.setRemoteDescription({type: 'answer', sdp: await resp.text()});
    const first = new Promise((resolve) => {
      video.requestVideoFrameCallback(() => resolve(performance.now()));
    });
    return {status: 201, location: resp.headers.get('Location'), answerMs: tAnswer - t0,
            offer: pc.localDescription.sdp, firstFrame: first.then((t) => t - t0)};
  },

  async videoStats() {
    if (!this.pc) return null;
    const stats = await this.pc.getStats();
    let out = null;
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        out = {framesDecoded: r.framesDecoded || 0, keyFramesDecoded: r.keyFramesDecoded || 0,
               frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0,
               framesDropped: r.framesDropped || 0};
      }
    });
    return out;
  },

  // Inbound audio: RTP counters and the negotiated codec (null: no audio received).
  async audioStats() {
    if (!this.pc) return null;
    const stats = await this.pc.getStats();
    let out = null;
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        const codec = r.codecId ? stats.get(r.codecId) : null;
        out = {packetsReceived: r.packetsReceived || 0, packetsLost: r.packetsLost || 0,
               totalSamplesReceived: r.totalSamplesReceived || 0,
               audioLevel: r.audioLevel || 0, totalAudioEnergy: r.totalAudioEnergy || 0,
               mimeType: codec ? codec.mimeType : null,
               clockRate: codec ? codec.clockRate : null};
      }
    });
    return out;
  },

  hls(url, lowLatency, bearer) {
    const video = this.makeVideo();
    // lowLatency: true (tuned), false (hls.js defaults) or an hls.js config object.
    const config = typeof lowLatency === 'object' ? {...lowLatency} : lowLatency ? {
      lowLatencyMode: true, liveSyncDuration: 0.5, liveMaxLatencyDuration: 3,
      maxLiveSyncPlaybackRate: 1.5, backBufferLength: 5,
    } : {};
    if (bearer) {
      // Only the playlist needs the bearer token; segment URLs carry a media token.
      config.xhrSetup = (xhr, u) => { if (u.includes('.m3u8')) xhr.setRequestHeader('Authorization', 'Bearer ' + bearer); };
    }
    const hls = new Hls(config);
    this.hlsPlayer = hls;
    const t0 = performance.now();
    this.hlsStart = new Promise((resolve) => {
      video.addEventListener('playing', () => resolve(performance.now() - t0), {once: true});
    });
    hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) this.hlsError = data.details; });
    // What hls.js fetched: LL-HLS parts or whole segments.
    this.hlsLoaded = {parts: 0, segments: 0};
    hls.on(Hls.Events.FRAG_LOADED, (_, data) => {
      if (data.part) this.hlsLoaded.parts++; else this.hlsLoaded.segments++;
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    video.play().catch(() => {});
    return true;
  },
};

// --- burnt-in wall-clock stamp of the simulator (see argus_camsim/stamp.py) -------------
argus.stampLayout = function (width, height) {
  let block = 8 * Math.max(1, Math.floor(height / 360));
  while (block > 4 && 34 * block > width) block -= 4;
  const margin = Math.max(8, Math.ceil(block / 8) * 8);
  return {block, x0: margin, y0: margin, w: 32 * block, h: 2 * block};
};

argus.crc16 = function (bytes) {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
};

// luma(x, y) gives 0..255 inside the stamp rectangle; returns epoch ms or null.
argus.decodeStamp = function (layout, luma, threshold) {
  const b = layout.block, lo = Math.floor(b / 4), hi = b - Math.floor(b / 4);
  const bits = [];
  for (let row = 0; row < 2; row++) {
    for (let col = 0; col < 32; col++) {
      let sum = 0, n = 0;
      for (let y = lo; y < hi; y++) for (let x = lo; x < hi; x++) { sum += luma(col * b + x, row * b + y); n++; }
      bits.push(sum / n > threshold ? 1 : 0);
    }
  }
  let ms = 0;
  for (let i = 0; i < 48; i++) ms = ms * 2 + bits[i];
  let check = 0;
  for (let i = 48; i < 64; i++) check = check * 2 + bits[i];
  const bytes = [];
  let v = ms;
  for (let i = 5; i >= 0; i--) { bytes[i] = v % 256; v = Math.floor(v / 256); }
  return argus.crc16(bytes) === check ? ms : null;
};

// WebCodecs: copy only the stamp rectangle of the current frame (cheap, no canvas).
argus.readStampFrame = async function (source) {
  const frame = new VideoFrame(source);
  try {
    const L = argus.stampLayout(frame.displayWidth, frame.displayHeight);
    const rect = {x: L.x0, y: L.y0, width: L.w, height: L.h};
    const buf = new Uint8Array(frame.allocationSize({rect}));
    const layout = await frame.copyTo(buf, {rect});
    const fmt = frame.format || '';
    if (fmt.startsWith('I4') || fmt.startsWith('NV')) {
      const {offset, stride} = layout[0];
      return argus.decodeStamp(L, (x, y) => buf[offset + y * stride + x], 125.5);
    }
    const {offset, stride} = layout[0];  // RGBA / BGRA / RGBX / BGRX
    return argus.decodeStamp(L, (x, y) => buf[offset + y * stride + 4 * x + 1], 127);
  } finally {
    frame.close();
  }
};

// Canvas fallback (slower): full-range RGB after decode.
argus.readStampCanvas = function (video) {
  const L = argus.stampLayout(video.videoWidth, video.videoHeight);
  const c = argus.canvas || (argus.canvas = document.createElement('canvas'));
  c.width = L.w; c.height = L.h;
  const ctx = c.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(video, L.x0, L.y0, L.w, L.h, 0, 0, L.w, L.h);
  const d = ctx.getImageData(0, 0, L.w, L.h).data;
  return argus.decodeStamp(L, (x, y) => d[4 * (y * L.w + x) + 1], 127);
};

// Latency samples: page clock minus burnt-in stamp for each presented frame.
argus.collectLatency = function (count) {
  const video = argus.video;
  argus.latency = [];
  return new Promise((resolve) => {
    const step = async (now, meta) => {
      let ms = null;
      try { ms = await argus.readStampFrame(video); } catch (e) { ms = argus.readStampCanvas(video); }
      // performance.timeOrigin + meta.expectedDisplayTime: when this frame is shown.
      const shown = performance.timeOrigin + (meta.expectedDisplayTime || now);
      if (ms !== null) argus.latency.push(shown - ms);
      if (argus.latency.length >= count) resolve(argus.latency);
      else video.requestVideoFrameCallback(step);
    };
    video.requestVideoFrameCallback(step);
  });
};
