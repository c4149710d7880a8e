import type { LabEvent } from '../../observe/events.js';

/**
 * The one page of the live view and of the report: the live server serves it with no events and
 * the script reads them from /events (server-sent events); the report is the same page with every
 * event embedded, frozen. Everything inline: the page loads nothing from anywhere.
 */
export function renderPage(opts: { title: string; events?: LabEvent[] }): string {
  const frozen = opts.events !== undefined;
  // JSON inside <script>: '<' escaped so no "</script>" in a DNS name can end the element early
  const data = frozen ? `<script id="events" type="application/json">${JSON.stringify(opts.events).replace(/</g, '\\u003c')}</script>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(opts.title)} — socketlab</title><style>${CSS}</style></head>
<body data-mode="${frozen ? 'report' : 'live'}">
<header><h1 id="lab-title">${esc(opts.title)}</h1><p class="topic" id="topic"></p>
<p><span id="verdict" class="verdict">running</span> <span id="status" class="mono"></span></p>
<div id="controls"><button id="pause" type="button">Pause</button><button id="next" type="button">Next step</button><button id="resume" type="button">Run to the end</button>
<label>host <select id="filter-host"><option value="">all</option></select></label>
<label>protocol <select id="filter-proto"><option value="">all</option><option>dhcp</option><option>dns</option><option>tcp</option><option>udp</option><option>arp</option><option>icmp</option><option>other</option></select></label>
<span id="counts" class="mono"></span></div></header>
<main><section class="diagram" id="diagram"><svg id="ladder" xmlns="http://www.w3.org/2000/svg" width="600" height="100" role="img" aria-label="ladder diagram of the packets"></svg></section>
<aside><section id="details"><h2>Packet</h2><p class="hint">Click an arrow to see its layers.</p></section>
<section><h2>Steps</h2><ol id="steps"></ol></section>
<section><h2>Checks</h2><table id="checks"><thead><tr><th></th><th>check</th><th>seen</th><th>hint</th></tr></thead><tbody></tbody></table></section></aside></main>
<section><h2>Socket pairs</h2><table id="pairs"><thead><tr><th>transport</th><th>socket pair</th><th>first</th><th>packets</th></tr></thead><tbody></tbody></table></section>
<footer class="mono">socketlab ${frozen ? 'report (the live page, frozen)' : 'live view'}</footer>
${data}<script>${SCRIPT}</script></body></html>
`;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#1d2330}
h1{font-size:21px;margin:0 0 4px}h2{font-size:15px;margin:14px 0 6px;border-bottom:1px solid #dde;padding-bottom:3px}
.topic{color:#556;margin:0 0 8px}.verdict{display:inline-block;padding:3px 9px;border-radius:4px;font-weight:600;background:#eef}
.pass{background:#e3f6e8;color:#13632d}.fail{background:#fde8e8;color:#9b1c1c}
#controls{margin:8px 0;display:flex;gap:10px;align-items:center;flex-wrap:wrap}#controls button{padding:4px 10px}
body[data-mode=report] #pause,body[data-mode=report] #next,body[data-mode=report] #resume{display:none}
main{display:flex;gap:16px;align-items:flex-start}.diagram{flex:1 1 auto;overflow:auto;max-height:80vh;border:1px solid #e4e6ef;border-radius:6px;background:#fcfcfe}
aside{flex:0 0 380px;max-height:80vh;overflow:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eef;vertical-align:top;font-size:12.5px}
th{background:#f5f6fa}code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
.hint{color:#8a5a00}#details table th{width:38%;font-weight:500;color:#445}#details h3{font-size:13px;margin:8px 0 2px}
#steps li.running{font-weight:600}#steps li.failed{color:#9b1c1c}
svg text{font:11.5px system-ui,sans-serif;text-anchor:middle}svg .lane-title{font-weight:600;font-size:13px}
svg .lane-sub{fill:#667;font-family:ui-monospace,monospace;font-size:10.5px}svg .lifeline{stroke:#c5c9d9;stroke-dasharray:4 3}
svg .packet line,svg .packet path{stroke:#2a5bd7;stroke-width:1.6;fill:none}svg .packet.udp line,svg .packet.udp path{stroke:#c05a00}
svg .packet.bcast line{stroke-dasharray:6 3}svg .packet circle{fill:#c05a00}svg .packet.arp line,svg .packet.icmpv6 line,svg .packet.icmp line{stroke:#7a7f8f}
svg .packet{cursor:pointer}svg g.packet line.hit,svg g.packet path.hit{stroke:transparent!important;stroke-width:14px!important;stroke-dasharray:none!important}svg .packet:hover text.label{fill:#000;text-decoration:underline}
svg .packet.selected line,svg .packet.selected path{stroke-width:3}svg .label{font-weight:600}svg .time{text-anchor:end;fill:#99a;font-size:10px}
svg .note{fill:#13632d;font-size:10px}svg .state rect{fill:#eef3ff;stroke:#9ab}svg .state text{font-size:10px;font-family:ui-monospace,monospace}
svg .mark rect{fill:#fff4dd;stroke:#d9a441}svg .mark text{font-size:10px}svg .step rect{fill:#f0f1f6}svg .step text{text-anchor:start;font-weight:600;font-size:12px}
svg .pause text{fill:#9b1c1c;font-size:10.5px;text-anchor:start}
`;

// Plain JS (no template literals inside): runs in the browser, the same for live and report.
const SCRIPT = `
(function(){
var LANE_W=230, LEFT=70, TOP=58, RIGHT=190;
var H={packet:38,state:20,mark:20,step:28,pause:18};
var st={lanes:[],rows:[],packets:{},steps:{},checks:[],run:null,end:null,paused:null,selected:null};
var svg=document.getElementById('ladder');
function el(tag,attrs,text){var e=document.createElementNS('http://www.w3.org/2000/svg',tag);for(var k in attrs)e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=text;return e;}
function h(tag,text,cls){var e=document.createElement(tag);if(text!==undefined)e.textContent=text;if(cls)e.className=cls;return e;}
function protoOf(p){if(p.app)return p.app;if(p.transport==='icmpv6')return 'icmp';if(['tcp','udp','arp','icmp'].indexOf(p.transport)>=0)return p.transport;return 'other';}
function add(e){
  if(e.kind==='run'&&e.phase==='start'){st.run=e;document.getElementById('topic').textContent=e.topic;}
  else if(e.kind==='run'&&e.phase==='end'){st.end=e;}
  else if(e.kind==='lane'){if(!st.lanes.some(function(l){return l.key===e.lane.key;})){st.lanes.push(e.lane);st.lanes.sort(function(a,b){return a.order-b.order;});var o=h('option',e.lane.title+(e.lane.subtitle&&e.lane.title!==e.lane.subtitle?' '+e.lane.subtitle:''));o.value=e.lane.key;document.getElementById('filter-host').appendChild(o);}}
  else if(e.kind==='packet'){if(st.packets[e.id])return;e.notes=(e.notes||[]).slice();st.packets[e.id]=e;st.rows.push(e);}
  else if(e.kind==='note'){var p=st.packets[e.packet];if(p&&p.notes.indexOf(e.text)<0)p.notes.push(e.text);}
  else if(e.kind==='state'||e.kind==='mark'||e.kind==='pause'){st.rows.push(e);if(e.kind==='pause')st.paused=e.paused?e:null;}
  else if(e.kind==='step'){if(e.phase==='start')st.rows.push(e);st.steps[e.index]=Object.assign({},st.steps[e.index]||{},e);}
  else if(e.kind==='check'){st.checks.push(e);}
  schedule();
}
var pending=false;
function schedule(){if(pending)return;pending=true;(window.requestAnimationFrame||setTimeout)(function(){pending=false;render();});}
function laneX(key){var i=st.lanes.findIndex(function(l){return l.key===key;});return i<0?-1:LEFT+i*LANE_W+LANE_W/2;}
function visible(r){
  var fh=document.getElementById('filter-host').value, fp=document.getElementById('filter-proto').value;
  if(r.kind==='packet'){if(fp&&protoOf(r)!==fp)return false;if(fh&&r.from!==fh&&r.to.indexOf(fh)<0)return false;return true;}
  if(r.kind==='state'||r.kind==='mark'){if(fh&&r.lane!==fh)return false;if(fp&&r.kind==='state'&&fp!=='tcp')return false;return true;}
  return true;
}
function fit(text,px){var n=Math.max(6,Math.floor(px/6.3));return text.length>n?text.slice(0,n-1)+'\\u2026':text;}
function render(){
  var rows=st.rows.filter(visible).sort(function(a,b){return a.t-b.t||a.seq-b.seq;});
  var t0=st.run?st.run.t:(rows.length?rows[0].t:0);
  var width=LEFT+st.lanes.length*LANE_W+RIGHT, y=TOP, g=[];
  while(svg.firstChild)svg.removeChild(svg.firstChild);
  var defs=el('defs');var mk=el('marker',{id:'head',viewBox:'0 0 10 10',refX:'9',refY:'5',markerWidth:'7',markerHeight:'7',orient:'auto-start-reverse'});mk.appendChild(el('path',{d:'M0 0 L10 5 L0 10 z',fill:'#2a5bd7'}));defs.appendChild(mk);svg.appendChild(defs);
  rows.forEach(function(r){
    var rh=H[r.kind]||20, mid=y+rh/2, grp;
    if(r.kind==='packet'){
      var x1=laneX(r.from), xs=r.to.map(laneX).filter(function(x){return x>=0;});
      grp=el('g',{'class':'packet '+protoOf(r)+' '+r.transport+(r.broadcast?' bcast':''),'data-id':String(r.id),'data-from':r.from,'data-to':r.to.join(' '),'data-src':r.src,'data-dst':r.dst,'data-segment':r.segment,'data-summary':r.summary});
      if(st.selected===r.id)grp.setAttribute('class',grp.getAttribute('class')+' selected');
      var ly=mid+6, lx, span;
      if(xs.length===0||(xs.length===1&&xs[0]===x1)){grp.appendChild(el('path',{d:'M'+x1+' '+(ly-8)+' h36 v14 h-36','marker-end':'url(#head)'}));lx=x1+42;span=LANE_W-50;grp.appendChild(el('path',{'class':'hit',d:'M'+x1+' '+ly+' h36'}));}
      else{var lo=Math.min.apply(null,xs.concat([x1])), hi=Math.max.apply(null,xs.concat([x1]));
        if(r.broadcast){if(lo<x1)grp.appendChild(el('line',{x1:x1,y1:ly,x2:lo+4,y2:ly,'marker-end':'url(#head)'}));if(hi>x1)grp.appendChild(el('line',{x1:x1,y1:ly,x2:hi-4,y2:ly,'marker-end':'url(#head)'}));xs.forEach(function(x){grp.appendChild(el('circle',{cx:x,cy:ly,r:3.5}));});}
        else{var x2=xs[0];grp.appendChild(el('line',{x1:x1,y1:ly,x2:x2+(x2>x1?-4:4),y2:ly,'marker-end':'url(#head)'}));}
        grp.appendChild(el('line',{'class':'hit',x1:lo,y1:ly,x2:hi,y2:ly}));
        lx=(lo+hi)/2;span=Math.max(hi-lo,LANE_W-20);}
      var label=r.summary+(r.broadcast?' (broadcast)':'');
      var t=el('text',{x:lx,y:ly-6,'class':'label'},fit(label,span));if(lx>x1+40&&xs.length===1&&xs[0]===x1)t.setAttribute('style','text-anchor:start');
      grp.appendChild(t);
      var tt=el('title',{},label+'\\n'+r.src+' -> '+r.dst+'\\n'+(r.notes||[]).join('\\n'));grp.appendChild(tt);
      grp.appendChild(el('text',{x:LEFT-8,y:ly+4,'class':'time'},'+'+((r.t-t0)/1000).toFixed(3)));
      if(r.notes&&r.notes.length){var nt=el('text',{x:lx,y:ly+12,'class':'note'},fit('\\u2713 '+r.notes[0],span));if(lx>x1+40&&xs.length===1&&xs[0]===x1)nt.setAttribute('style','text-anchor:start');grp.appendChild(nt);}
      grp.addEventListener('click',function(){st.selected=r.id;showDetails(r);render();});
    } else if(r.kind==='state'||r.kind==='mark'){
      var x=laneX(r.lane);if(x<0)return;
      var text=r.kind==='state'?r.state+' '+r.local.replace(/^.*:/,':')+'\\u2192'+r.remote:r.label;
      text=fit(text,LANE_W-16);
      grp=el('g',{'class':r.kind,'data-lane':r.lane});var w=text.length*6.2+10;
      grp.appendChild(el('rect',{x:x-w/2,y:y+2,width:w,height:rh-5,rx:4}));grp.appendChild(el('text',{x:x,y:y+rh-7},text));
      var tl=el('title',{},r.kind==='state'?r.host+': '+r.local+' <-> '+r.remote+' '+r.state:r.label);grp.appendChild(tl);
    } else if(r.kind==='step'){
      grp=el('g',{'class':'step'});grp.appendChild(el('rect',{x:4,y:y+3,width:width-8,height:rh-6,rx:3}));
      grp.appendChild(el('text',{x:12,y:y+rh-9},'step '+(r.index+1)+': '+r.name+' (on '+r.host+')'));
    } else if(r.kind==='pause'){
      grp=el('g',{'class':'pause'});grp.appendChild(el('text',{x:12,y:y+rh-5},(r.paused?'paused: ':'resumed ')+r.reason));
    }
    if(grp)g.push(grp);y+=rh;
  });
  var height=y+20;
  st.lanes.forEach(function(l){var x=laneX(l.key);var lg=el('g',{'class':'lane','data-lane':l.key});
    lg.appendChild(el('text',{x:x,y:20,'class':'lane-title'},fit(l.title,LANE_W-10)));lg.appendChild(el('text',{x:x,y:36,'class':'lane-sub'},fit(l.subtitle,LANE_W-10)));
    lg.appendChild(el('line',{x1:x,y1:TOP-12,x2:x,y2:height-6,'class':'lifeline'}));svg.appendChild(lg);});
  g.forEach(function(x){svg.appendChild(x);});
  svg.setAttribute('width',String(width));svg.setAttribute('height',String(height));svg.setAttribute('viewBox','0 0 '+width+' '+height);
  renderSide();
}
function showDetails(p){
  var d=document.getElementById('details');d.innerHTML='';d.appendChild(h('h2','Packet '+p.id+': '+p.summary));
  var lane=function(k){var l=st.lanes.find(function(x){return x.key===k;});return l?l.title:k;};
  d.appendChild(h('p',lane(p.from)+' \\u2192 '+(p.broadcast?'every host on '+p.segment+' ('+p.to.map(lane).join(', ')+')':p.to.map(lane).join(', ')),'mono'));
  d.appendChild(h('p','segment '+p.segment+', '+new Date(p.t).toISOString()+(p.source==='log'?' (from a server log)':''),'mono'));
  p.layers.forEach(function(l){var sec=h('section');sec.className='layer';sec.setAttribute('data-layer',l.name);sec.appendChild(h('h3',l.name));var tb=h('table');
    Object.keys(l.fields).forEach(function(k){var tr=h('tr');tr.appendChild(h('th',k));tr.appendChild(h('td',String(l.fields[k]),'mono'));tb.appendChild(tr);});sec.appendChild(tb);d.appendChild(sec);});
  if(p.notes&&p.notes.length){d.appendChild(h('h3','What the servers logged'));var ul=h('ul');p.notes.forEach(function(n){ul.appendChild(h('li',n,'mono'));});d.appendChild(ul);}
}
function renderSide(){
  var ol=document.getElementById('steps');ol.innerHTML='';
  Object.keys(st.steps).sort(function(a,b){return a-b;}).forEach(function(k){var s=st.steps[k];var li=h('li');li.className=s.phase==='start'?'running':(s.ok?'ok':'failed');
    li.appendChild(h('strong',s.name));li.appendChild(h('span',' (on '+s.host+')','mono'));li.appendChild(h('br'));li.appendChild(h('code','$ '+s.command));
    if(s.phase==='end'&&!s.ok){li.appendChild(h('span',' exit '+s.code,'verdict fail'));}
    if(s.show){li.appendChild(h('br'));li.appendChild(h('span','look for: '+s.show,'hint'));}ol.appendChild(li);});
  var tb=document.querySelector('#checks tbody');tb.innerHTML='';
  st.checks.forEach(function(c){var tr=h('tr');tr.className=c.passed?'pass':'fail';var td=h('td');td.appendChild(h('span',c.passed?'PASS':'FAIL','verdict '+(c.passed?'pass':'fail')));tr.appendChild(td);
    tr.appendChild(h('td',c.name));tr.appendChild(h('td',c.detail,'mono'));tr.appendChild(h('td',c.passed?'':c.hint,'hint'));tb.appendChild(tr);});
  var pairs={},order=[];Object.keys(st.packets).forEach(function(id){var p=st.packets[id];if(p.transport!=='tcp'&&p.transport!=='udp')return;var k=p.transport+' '+[p.src,p.dst].sort().join(' <-> ');if(!pairs[k]){pairs[k]={t:p.transport,pair:[p.src,p.dst].sort().join(' <-> '),first:p.summary,n:0};order.push(k);}pairs[k].n++;});
  var pb=document.querySelector('#pairs tbody');pb.innerHTML='';order.forEach(function(k){var r=pairs[k];var tr=h('tr');[r.t,r.pair,r.first,String(r.n)].forEach(function(x,i){tr.appendChild(h('td',x,i===1?'mono':undefined));});pb.appendChild(tr);});
  var v=document.getElementById('verdict');
  if(st.end){v.textContent=st.end.verdict;v.className='verdict '+(st.end.passed?'pass':'fail');}
  document.getElementById('status').textContent=st.end?'finished':(st.paused?'paused: '+st.paused.reason:(document.body.getAttribute('data-mode')==='live'?'running':''));
  document.getElementById('counts').textContent=Object.keys(st.packets).length+' packets';
  var pa=!!st.paused;document.getElementById('pause').disabled=pa||!!st.end;document.getElementById('next').disabled=!pa;document.getElementById('resume').disabled=!!st.end;
}
function control(action){var x=new XMLHttpRequest();x.open('POST','/control');x.setRequestHeader('content-type','text/plain');x.send(action);}
document.getElementById('pause').addEventListener('click',function(){control('pause');});
document.getElementById('next').addEventListener('click',function(){control('next');});
document.getElementById('resume').addEventListener('click',function(){control('resume');});
document.getElementById('filter-host').addEventListener('change',render);
document.getElementById('filter-proto').addEventListener('change',render);
var embedded=document.getElementById('events');
if(embedded){JSON.parse(embedded.textContent).forEach(add);render();}
else{var es=new EventSource('/events');es.onmessage=function(m){add(JSON.parse(m.data));};}
window.socketlab=st;
})();
`;
