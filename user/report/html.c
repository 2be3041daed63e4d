// SPDX-License-Identifier: GPL-2.0
/*
 * The report as one HTML page that needs nothing else: the data is the
 * report's own JSON object (what --json prints, so the page and --json never
 * disagree) plus, per migration, the model's predicted rounds and the
 * source's W(t) from its harvest windows; inline JS draws every plot from
 * that island as SVG, each point an element carrying its data-x and data-y,
 * so a test (or a user) can read the plotted figures back from the DOM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "probe/dirty_window.h"
#include "report/html.h"
#include "report/report_json.h"

#define ADD(o, k, v) json_object_object_add(o, k, v)
#define WT_POINTS 128

static const char page_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
	"<title>vfmigprof report</title>\n<style>\n"
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}\n"
	"h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ccc}\n"
	"table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;text-align:right}\n"
	"th{background:#eee}td:first-child,th:first-child{text-align:left}\n"
	"figure{display:inline-block;margin:.4em;vertical-align:top}\n"
	"figcaption{font-weight:600;font-size:.9em}\n"
	"svg{background:#fafafa;border:1px solid #ddd}svg text{font-size:10px;fill:#444}\n"
	".axis{stroke:#888}.line{fill:none;stroke-width:1.5}\n"
	".s0 circle,.s0 rect{fill:#1f77b4}.s0 .line{stroke:#1f77b4}.legend.s0{fill:#1f77b4}\n"
	".s1 circle,.s1 rect{fill:#ff7f0e}.s1 .line{stroke:#ff7f0e}.legend.s1{fill:#ff7f0e}\n"
	".s2 circle,.s2 rect{fill:#2ca02c}.s2 .line{stroke:#2ca02c}.legend.s2{fill:#2ca02c}\n"
	".s3 circle,.s3 rect{fill:#d62728}.s3 .line{stroke:#d62728}.legend.s3{fill:#d62728}\n"
	".s4 circle,.s4 rect{fill:#9467bd}.s4 .line{stroke:#9467bd}.legend.s4{fill:#9467bd}\n"
	".s5 circle,.s5 rect{fill:#8c564b}.s5 .line{stroke:#8c564b}.legend.s5{fill:#8c564b}\n"
	".seg{stroke:#fff;stroke-width:.5}.round{fill:#6baed6}.stop_copy{fill:#e6550d}\n"
	".downtime{fill:#d62728;opacity:.7}.state{fill:#74c476}.warn{color:#b00}\n"
	"</style></head>\n<body data-ready=\"0\">\n<h1>vfmigprof report</h1>\n"
	"<div id=\"summary\"></div>\n<div id=\"migrations\"></div>\n<div id=\"figures\"></div>\n"
	"<script type=\"application/json\" id=\"report-data\">\n";

/* Draws the page from the island; every plotted point keeps its figures in data-x/data-y. */
static const char page_script[] =
	"</script>\n<script>\n(function(){\n"
	"var R=JSON.parse(document.getElementById('report-data').textContent);\n"
	"var NS='http://www.w3.org/2000/svg',W=560,H=220,L=62,B=30,T=10,RM=10;\n"
	"function el(t,a,p){var e=document.createElementNS(NS,t);for(var k in a)"
	"e.setAttribute(k,a[k]);if(p)p.appendChild(e);return e;}\n"
	"function h(t,s,p){var e=document.createElement(t);if(s!==undefined)e.textContent=s;"
	"if(p)p.appendChild(e);return e;}\n"
	"function tx(p,x,y,s,a){var t=el('text',{x:x,y:y,'text-anchor':a||'middle'},p);"
	"t.textContent=s;return t;}\n"
	"function f(v){if(typeof v!=='number')return String(v);var a=Math.abs(v);"
	"return a>=1e5||(a&&a<1e-2)?v.toExponential(2):String(+v.toFixed(3));}\n"
	"function lg(v){return Math.log10(Math.max(v,1e-6));}\n"
	"function plot(sec,id,title,xl,yl,ser,o){o=o||{};var W=o.w||560,H=o.h||220,"
	"fig=h('figure',undefined,sec);\n"
	" h('figcaption',title,fig);var s=el('svg',{'class':'plot','data-plot':id,width:W,"
	"height:H,viewBox:'0 0 '+W+' '+H},fig);\n"
	" for(var k in o.attr||{})s.setAttribute(k,o.attr[k]);\n"
	" var xs=[],y1=0;ser.forEach(function(q){q.pts.forEach(function(p){"
	"xs.push(o.logx?lg(p[0]):p[0]);y1=Math.max(y1,p[1]);});});\n"
	" if(!xs.length){tx(s,W/2,H/2,'no data');return s;}\n"
	" var x0=Math.min.apply(null,xs),x1=Math.max.apply(null,xs);\n"
	" if(o.bars){x0-=.5;x1+=.5;}if(x1<=x0)x1=x0+1;if(y1<=0)y1=1;\n"
	" function X(v){v=o.logx?lg(v):v;return L+(v-x0)/(x1-x0)*(W-L-RM);}\n"
	" function Y(v){return H-B-v/y1*(H-B-T);}\n"
	" el('line',{x1:L,y1:H-B,x2:W-RM,y2:H-B,'class':'axis'},s);"
	"el('line',{x1:L,y1:T,x2:L,y2:H-B,'class':'axis'},s);\n"
	" tx(s,L-4,T+8,f(y1),'end');tx(s,L-4,H-B,'0','end');\n"
	" tx(s,L,H-B+12,f(o.logx?Math.pow(10,x0):x0),'start');"
	"tx(s,W-RM,H-B+12,f(o.logx?Math.pow(10,x1):x1),'end');\n"
	" tx(s,(L+W)/2,H-4,xl);tx(s,10,(T+H-B)/2,yl).setAttribute('transform',"
	"'rotate(-90 10 '+(T+H-B)/2+')');\n"
	" var bw=o.bars?(W-L-RM)/(x1-x0)*.8/ser.length:0;\n"
	" ser.forEach(function(q,k){var g=el('g',{'class':'series s'+k,'data-series':q.name},s),"
	"d='';\n"
	"  q.pts.forEach(function(p,i){var cx=X(p[0]),cy=Y(p[1]),e,"
	"a={'class':'pt','data-x':String(p[0]),'data-y':String(p[1])};\n"
	"   if(o.bars){a.x=cx-bw*ser.length/2+k*bw;a.y=cy;a.width=bw;a.height=H-B-cy;"
	"e=el('rect',a,g);}\n"
	"   else{a.cx=cx;a.cy=cy;a.r=2.5;e=el('circle',a,g);d+=(i?'L':'M')+cx+' '+cy;}\n"
	"   el('title',{},e).textContent=q.name+': '+f(p[0])+' '+xl+', '+f(p[1])+' '+yl;});\n"
	"  if(d)g.insertBefore(el('path',{d:d,'class':'line'}),g.firstChild);\n"
	"  tx(s,W-RM-4,T+12+12*k,q.name,'end').setAttribute('class','legend s'+k);});\n"
	" return s;}\n"
	"function table(p,rows){var t=h('table',undefined,p);rows.forEach(function(r,i){"
	"var tr=h('tr',undefined,t);r.forEach(function(c){h(i?'td':'th',f(c),tr);});});return t;}\n"
	"function ms(v){return v===null||v===undefined?'-':v;}\n"
	"function summary(){var s=document.getElementById('summary'),hd=R.header||{},"
	"fl=R.file||{};\n"
	" table(s,[['recording','value'],['host',hd.host||'?'],['kernel',hd.kernel||'?'],"
	"['command',(hd.cmdline||[]).join?hd.cmdline.join(' '):String(hd.cmdline||'')],"
	"['events',R.events],['harvest windows',R.harvest_windows],['snapshots',R.snapshots],"
	"['closed cleanly',fl.closed?'yes':'no'],['ring drops',fl.ring_drops],"
	"['lost blocks',fl.lost_blocks]]);\n"
	" if(fl.cut||fl.skipped)h('p','damaged: cut '+fl.cut+', skipped '+fl.skipped,s)"
	".className='warn';}\n"
	"function seg(s,lane,x,w,X,cls,label,y){var r=el('rect',{'class':'seg '+cls,"
	"'data-lane':lane,'data-x':String(x),'data-w':String(w),x:X(x),y:y,"
	"width:Math.max(X(x+w)-X(x),1),height:14},s);el('title',{},r).textContent=label+': '+"
	"f(x)+' ms +'+f(w)+' ms';}\n"
	"function timeline(sec,m,i){var lanes=[['migration',m.devices[0]]].concat("
	"m.devices.map(function(d){return [d.id,d];}),m.destination.devices.map("
	"function(d){return ['dest '+d.id,d];})),hh=24+lanes.length*20,end=m.total_ms||1,\n"
	" fig=h('figure',undefined,sec);h('figcaption','timeline (ms since the first state SET)',"
	"fig);\n"
	" var s=el('svg',{'class':'plot','data-plot':'timeline','data-mig':i,width:W*2-100,"
	"height:hh},fig),X=function(v){return 150+v/end*(W*2-270);};\n"
	" lanes.forEach(function(l,k){tx(s,4,14+k*20+11,l[0],'start');});\n"
	" m.rounds.forEach(function(r,k){seg(s,'migration',r.start_ms,r.ms,X,'round',"
	"'round '+k,12);});\n"
	" seg(s,'migration',m.precopy_ms,m.stop_copy_ms,X,'stop_copy','stop-copy',12);\n"
	" if(m.downtime_ms!==null)seg(s,'downtime',m.downtime_start_ms,m.downtime_ms,X,"
	"'downtime','downtime from the '+m.downtime_from.replace('_',' '),27);\n"
	" lanes.slice(1).forEach(function(l,k){(l[1].states||[]).forEach(function(st){"
	"seg(s,l[0],st.at_ms,st.ms,X,'state',st.state,14+(k+1)*20);});});\n"
	" tx(s,X(0),hh-2,'0','start');tx(s,X(end),hh-2,f(end)+' ms','end');}\n"
	"function migration(m,i){var sec=h('section',undefined,"
	"document.getElementById('migrations')),p=m.prediction||{},pr=m.plot.predicted_rounds,"
	"dp=m.downtime_parts_ms||{},bytes=0;\n"
	" m.rounds.forEach(function(r){bytes+=r.dev_bytes;});\n"
	" h('h2','migration '+i+': pid '+m.pid+(m.vm?' ('+m.vm+')':'')+' -> pid '+"
	"m.destination_pid,sec);\n"
	" table(sec,[['','measured','predicted'],['rounds',m.rounds.length,"
	"p.made?p.rounds:'-'],['total ms',m.total_ms,p.made?p.total_ms:'-'],"
	"['downtime ms',ms(m.downtime_ms),p.made?p.downtime_ms:'-'],"
	"['pre-copy ms',m.precopy_ms,'-'],['stop-copy ms',m.stop_copy_ms,'-'],"
	"['device bytes in rounds',bytes,'-'],['final pages',m.final_pages,'-'],"
	"['final device bytes',m.final_device_bytes,'-']]).setAttribute('data-mig',i);\n"
	" var parts=[['downtime part','ms']];for(var k in dp)parts.push([k,dp[k]]);"
	"table(sec,parts);\n"
	" h('p',p.made?'prediction from '+p.from+': '+(p.converged?'converges':"
	"'does not converge')+' ('+p.why+')':'no prediction: '+(p.why_not||''),sec);\n"
	" timeline(sec,m,i);\n"
	" function ser(k){return [{name:'measured',pts:m.rounds.map(function(r,j){"
	"return [j,r[k]];})},{name:'predicted',pts:pr.map(function(r,j){return [j,r[k]];})}];}\n"
	" plot(sec,'rounds_pages','pre-copy rounds: dirty pages each opened with','round',"
	"'pages',ser('dirty_pages'),{bars:1,attr:{'data-mig':i}});\n"
	" plot(sec,'rounds_dev_bytes','pre-copy rounds: device bytes','round','bytes',"
	"ser('dev_bytes'),{bars:1,attr:{'data-mig':i}});\n"
	" plot(sec,'wt','W(t) of pid '+m.pid+' (its harvest windows)','t ms','pages',"
	"[{name:'W(t)',pts:m.plot.wt}],{logx:1,attr:{'data-mig':i}});}\n"
	"function figures(){var sec=document.getElementById('figures'),dr=R.dirty_rate||[],"
	"keys=[];h('h2','dirty rate and latency',sec);\n"
	" dr.forEach(function(p){for(var k in p)if(k!=='t_s'&&keys.indexOf(k)<0)keys.push(k);});\n"
	" plot(sec,'dirty_rate','dirty rate by source (between snapshots)','t s','per s',"
	"keys.map(function(k){return {name:k,pts:dr.map(function(p){return [p.t_s,p[k]];})};}));\n"
	" var wr=R.harvest_windows_rate||[],pids=[];wr.forEach(function(w){"
	"if(pids.indexOf(w.pid)<0)pids.push(w.pid);});\n"
	" plot(sec,'window_rate','vCPU dirty rate per harvest window','t s','pages/s',"
	"pids.map(function(pid){return {name:'pid '+pid,pts:wr.filter(function(w){"
	"return w.pid===pid;}).map(function(w){return [w.t_s,w.pages_per_s];})};}));\n"
	" (R.latency||[]).forEach(function(a){var pts=[];(a.slots||[]).forEach(function(c,j){"
	"if(c)pts.push([j,c]);});\n"
	"  plot(sec,'latency',a.device+' '+a.what+' '+a.arc+' ('+a.count+', p50 '+f(a.p50_ns/1e3)"
	"+' us)','log2 ns','count',[{name:a.arc,pts:pts}],{bars:1,w:300,h:150,attr:{"
	"'data-device':a.device,'data-what':a.what,'data-arc':a.arc}});});}\n"
	"summary();(R.migrations||[]).forEach(migration);figures();\n"
	"document.body.setAttribute('data-resources',"
	"String(performance.getEntriesByType('resource').length));\n"
	"document.body.setAttribute('data-ready','1');})();\n"
	"</script>\n</body></html>\n";

static json_object *predicted_rounds(const struct rep_migration *m)
{
	json_object *l = json_object_new_array();
	unsigned int i;

	for (i = 0; m->predicted && i < m->pred.nrounds && i < MODEL_MAX_ROUNDS; i++) {
		const struct model_round *rd = &m->pred.round[i];
		json_object *o = json_object_new_object();

		ADD(o, "dirty_pages", json_object_new_double(rd->dirty_pages));
		ADD(o, "dev_bytes", json_object_new_double(rd->dev_bytes));
		ADD(o, "bytes", json_object_new_double(rd->bytes));
		ADD(o, "ms", json_object_new_double(rd->seconds * 1e3));
		json_object_array_add(l, o);
	}
	return l;
}

/* W(t) of the source's ranges together, from every harvest window it took. */
static json_object *wt_curve(const struct report *r, uint32_t pid)
{
	json_object *l = json_object_new_array();
	struct dirty_windows *d = dirty_windows_new();
	double t[WT_POINTS], pages[WT_POINTS];
	size_t i, n;

	if (!d)
		return l;
	for (i = 0; i < r->nwin; i++)
		dirty_windows_add(d, &r->win[i]);
	n = dirty_window_curve(d, pid, 0, t, pages, WT_POINTS);
	for (i = 0; i < n; i++) {
		json_object *p = json_object_new_array();

		json_object_array_add(p, json_object_new_double(t[i]));
		json_object_array_add(p, json_object_new_double(pages[i]));
		json_object_array_add(l, p);
	}
	dirty_windows_close(d);
	return l;
}

static json_object *page_data(const struct report *r)
{
	json_object *o = report_json(r), *migs = json_object_object_get(o, "migrations");
	size_t i;

	for (i = 0; i < r->nmigs && i < json_object_array_length(migs); i++) {
		json_object *p = json_object_new_object();

		ADD(p, "predicted_rounds", predicted_rounds(&r->mig[i]));
		ADD(p, "wt", wt_curve(r, r->mig[i].pid));
		ADD(json_object_array_get_idx(migs, i), "plot", p);
	}
	return o;
}

int report_write_html(const struct report *r, const char *path, char *err, size_t errlen)
{
	json_object *o = page_data(r);
	FILE *f = fopen(path, "w");
	int bad;

	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		json_object_put(o);
		return -1;
	}
	/* json-c escapes '/', so no "</script>" can end the island early */
	bad = fputs(page_head, f) < 0 || fputs(json_object_to_json_string(o), f) < 0 ||
	      fputs(page_script, f) < 0;
	bad |= fclose(f) != 0;
	json_object_put(o);
	if (bad)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	return bad ? -1 : 0;
}
