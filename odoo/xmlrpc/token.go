package xmlrpc

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// sourceReader remembers the error of the underlying reader, so that a
// failed read (a body over its size limit, a dropped connection) is
// reported as itself and not as ErrSyntax.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// next returns the next token; the end of input is an error here.
func (p *parser) next() (xml.Token, error) {
	tok, err := p.d.Token()
	if err == nil {
		return tok, nil
	}
	return nil, p.wrap(err)
}

func (p *parser) wrap(err error) error {
	switch {
	case p.src.err != nil:
		return fmt.Errorf("read: %w", p.src.err)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %w", ErrSyntax, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("%w: %w", ErrSyntax, err)
}

// prolog reads the optional XML declaration and the start of root.
func (p *parser) prolog(root string) error {
	for first := true; ; first = false {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if !first || t.Target != "xml" {
				return unexpected(tok, "<"+root+">")
			}
		case xml.CharData:
			if !isSpace(t) {
				return unexpected(tok, "<"+root+">")
			}
		default:
			return isStart(tok, root)
		}
	}
}

// epilog accepts only white space after the root element.
func (p *parser) epilog() error {
	for {
		tok, err := p.d.Token()
		if errors.Is(err, io.EOF) && p.src.err == nil {
			return nil
		}
		if err != nil {
			return p.wrap(err)
		}
		if cd, ok := tok.(xml.CharData); !ok || !isSpace(cd) {
			return unexpected(tok, "end of document")
		}
	}
}

// element returns the next start or end element, skipping white space.
// Start elements are checked to have no namespace and no attributes.
func (p *parser) element() (xml.Token, error) {
	for {
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if isSpace(t) {
				continue
			}
		case xml.StartElement:
			return tok, plain(t)
		case xml.EndElement:
			return tok, nil
		}
		return nil, unexpected(tok, "an element")
	}
}

func (p *parser) expectStart(name string) error {
	tok, err := p.element()
	if err != nil {
		return err
	}
	return isStart(tok, name)
}

// ends reads n end elements. The xml.Decoder checks that each one closes
// the element it should.
func (p *parser) ends(n int) error {
	for range n {
		tok, err := p.element()
		if err != nil {
			return err
		}
		if _, ok := tok.(xml.EndElement); !ok {
			return unexpected(tok, "an end element")
		}
	}
	return nil
}

// text returns the character data of an element whose start was just read,
// up to and including its end.
func (p *parser) text() (string, error) {
	var s strings.Builder
	for {
		tok, err := p.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			s.Write(t)
		case xml.EndElement:
			return s.String(), nil
		default:
			return "", unexpected(tok, "text")
		}
	}
}

func isStart(tok xml.Token, name string) error {
	se, ok := tok.(xml.StartElement)
	if !ok || se.Name.Local != name {
		return unexpected(tok, "<"+name+">")
	}
	return plain(se)
}

// plain refuses namespaces and attributes, which XML-RPC does not use.
func plain(se xml.StartElement) error {
	if se.Name.Space != "" || len(se.Attr) != 0 {
		return fmt.Errorf("%w: namespace or attribute on <%s>", ErrSyntax, clip(se.Name.Local))
	}
	return nil
}

func unexpected(tok xml.Token, want string) error {
	return fmt.Errorf("%w: got %s, want %s", ErrSyntax, describe(tok), want)
}

func describe(tok xml.Token) string {
	switch t := tok.(type) {
	case xml.StartElement:
		return "<" + clip(t.Name.Local) + ">"
	case xml.EndElement:
		return "</" + clip(t.Name.Local) + ">"
	case xml.CharData:
		return fmt.Sprintf("text %q", clip(string(t)))
	case xml.Comment:
		return "a comment"
	case xml.ProcInst:
		return "a processing instruction"
	case xml.Directive:
		return "a directive (DOCTYPE or similar)"
	}
	return fmt.Sprintf("%T", tok)
}

func isSpace[T ~string | ~[]byte](b T) bool {
	for i := range len(b) {
		if c := b[i]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
