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

  async whep(url, token, waitGathering) {
    const t0 = performance.now();
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.addTransceiver('video', {direction: 'recvonly'});
    const video = this.makeVideo();
    pc.ontrack = (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); };
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

  hls(url, lowLatency) {
    const video = this.makeVideo();
    const config = lowLatency ? {
      lowLatencyMode: true, liveSyncDuration: 0.5, liveMaxLatencyDuration: 3,
      maxLiveSyncPlaybackRate: 1.5, backBufferLength: 5,
    } : {};
    const hls = new Hls(config);
    this.hlsPlayer = hls;
    const t0 = performance.now();
    this.hlsStart = new Promise((resolve) => {
      video.addEventListener('playing', () => resolve(performance.now() - t0), {once: true});
    });
    hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) this.hlsError = data.details; });
    hls.loadSource(url);
    hls.attachMedia(video);
    video.play().catch(() => {});
    return true;
  },
};
