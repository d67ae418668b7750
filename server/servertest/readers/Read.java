// Reads feed documents with ROME (Debian's librome-java) and prints, as
// JSON, what it makes of each entry: java Read FILE...
// Output: {"FILE": {"entries": [...]} or {"error": "..."}, ...}.

import com.rometools.rome.feed.synd.SyndEntry;
import com.rometools.rome.feed.synd.SyndFeed;
import com.rometools.rome.io.SyndFeedInput;
import com.rometools.rome.io.XmlReader;
import java.io.File;
import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.TimeZone;

public class Read {
    public static void main(String[] args) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < args.length; i++) {
            if (i > 0) out.append(',');
            out.append(quote(args[i])).append(':');
            try {
                SyndFeed feed = new SyndFeedInput().build(new XmlReader(new File(args[i])));
                out.append("{\"entries\":[");
                boolean first = true;
                for (SyndEntry e : feed.getEntries()) {
                    if (!first) out.append(',');
                    first = false;
                    String source = e.getSource() != null ? e.getSource().getTitle() : "";
                    out.append('{')
                        .append("\"title\":").append(quote(e.getTitle())).append(',')
                        .append("\"link\":").append(quote(e.getLink())).append(',')
                        .append("\"id\":").append(quote(e.getUri())).append(',')
                        .append("\"published\":").append(quote(stamp(e.getPublishedDate()))).append(',')
                        .append("\"updated\":").append(quote(stamp(e.getUpdatedDate()))).append(',')
                        .append("\"author\":").append(quote(e.getAuthor())).append(',')
                        .append("\"source\":").append(quote(source))
                        .append('}');
                }
                out.append("]}");
            } catch (Exception ex) {
                out.append("{\"error\":").append(quote(ex.toString())).append('}');
            }
        }
        System.out.println(out.append('}'));
    }

    static String stamp(Date d) {
        if (d == null) return "";
        SimpleDateFormat f = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'");
        f.setTimeZone(TimeZone.getTimeZone("UTC"));
        return f.format(d);
    }

    static String quote(String s) {
        if (s == null) s = "";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
