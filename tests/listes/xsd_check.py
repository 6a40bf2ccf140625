"""A small structural validator for the subset of XML Schema used by listes/xml/teledossier.xsd
(sequence, choice, minOccurs/maxOccurs, simpleContent attributes, enumerations, patterns, xs:date,
xs:dateTime, xs:boolean, xs:nonNegativeInteger). lxml is not a dependency of the project."""

import datetime
import re
import xml.etree.ElementTree as ET

XS = "{http://www.w3.org/2001/XMLSchema}"


class SchemaError(AssertionError):
    pass


class Schema:
    def __init__(self, path):
        self.root = ET.parse(path).getroot()
        self.ns = self.root.get("targetNamespace")
        self.simple = {st.get("name"): st for st in self.root.findall(f"{XS}simpleType")}
        self.complex = {ct.get("name"): ct for ct in self.root.findall(f"{XS}complexType")}

    def validate(self, doc: ET.Element):
        top = {el.get("name"): el for el in self.root.findall(f"{XS}element")}
        name = self._local(doc)
        if name not in top:
            raise SchemaError(f"élément racine inattendu : {name}")
        self._element(top[name], doc, name)

    def _local(self, el):
        if not el.tag.startswith("{" + self.ns + "}"):
            raise SchemaError(f"espace de noms inattendu : {el.tag}")
        return el.tag.split("}", 1)[1]

    def _element(self, decl, el, path):
        type_name = decl.get("type")
        if type_name:
            if type_name in self.complex:
                return self._complex(self.complex[type_name], el, path)
            if list(el):
                raise SchemaError(f"{path} : contenu simple attendu")
            return self._simple(type_name, el.text or "", path)
        ct = decl.find(f"{XS}complexType")
        return self._complex(ct, el, path)

    def _complex(self, ct, el, path):
        own = ct.findall(f"{XS}attribute") + ct.findall(f"{XS}simpleContent/{XS}extension/{XS}attribute")
        attrs = {a.get("name"): a for a in own}
        for name, a in attrs.items():
            if a.get("use") == "required" and el.get(name) is None:
                raise SchemaError(f"{path} : attribut {name} manquant")
            if el.get(name) is not None:
                if a.get("fixed") and el.get(name) != a.get("fixed"):
                    raise SchemaError(f"{path}@{name} : valeur fixée à {a.get('fixed')}")
                self._simple(a.get("type"), el.get(name), f"{path}@{name}")
        for name in el.attrib:
            if name not in attrs:
                raise SchemaError(f"{path} : attribut inattendu {name}")
        sc = ct.find(f"{XS}simpleContent")
        if sc is not None:
            if list(el):
                raise SchemaError(f"{path} : contenu simple attendu")
            return self._simple(sc.find(f"{XS}extension").get("base"), el.text or "", path)
        seq = ct.find(f"{XS}sequence")
        children = list(el)
        pos = self._particles(seq, children, 0, path)
        if pos != len(children):
            raise SchemaError(f"{path} : élément inattendu {self._local(children[pos])}")
        if (el.text or "").strip():
            raise SchemaError(f"{path} : texte inattendu")

    def _particles(self, seq, children, pos, path):
        for particle in seq:
            if particle.tag == f"{XS}element":
                pos = self._occurs(particle, children, pos, path)
            elif particle.tag == f"{XS}choice":
                options = particle.findall(f"{XS}element")
                if pos < len(children) and self._local(children[pos]) in [o.get("name") for o in options]:
                    chosen = next(o for o in options if o.get("name") == self._local(children[pos]))
                    pos = self._occurs(chosen, children, pos, path)
                else:
                    raise SchemaError(f"{path} : l'un de {[o.get('name') for o in options]} est attendu")
        return pos

    def _occurs(self, decl, children, pos, path):
        name = decl.get("name")
        low = int(decl.get("minOccurs", "1"))
        high = decl.get("maxOccurs", "1")
        high = None if high == "unbounded" else int(high)
        count = 0
        while pos < len(children) and self._local(children[pos]) == name and (high is None or count < high):
            self._element(decl, children[pos], f"{path}/{name}")
            pos += 1
            count += 1
        if count < low:
            raise SchemaError(f"{path} : élément {name} manquant")
        return pos

    def _simple(self, type_name, value, path):
        if type_name in self.simple:
            restriction = self.simple[type_name].find(f"{XS}restriction")
            enums = [e.get("value") for e in restriction.findall(f"{XS}enumeration")]
            if enums and value not in enums:
                raise SchemaError(f"{path} : {value!r} hors de {enums}")
            for p in restriction.findall(f"{XS}pattern"):
                if not re.fullmatch(p.get("value"), value):
                    raise SchemaError(f"{path} : {value!r} ne suit pas le motif {p.get('value')}")
            return self._simple(restriction.get("base"), value, path)
        if type_name == "xs:string":
            return
        if type_name == "xs:date":
            datetime.date.fromisoformat(value)
        elif type_name == "xs:dateTime":
            datetime.datetime.fromisoformat(value)
        elif type_name == "xs:boolean":
            if value not in ("true", "false", "1", "0"):
                raise SchemaError(f"{path} : booléen attendu")
        elif type_name == "xs:nonNegativeInteger":
            if not value.isdigit():
                raise SchemaError(f"{path} : entier positif attendu")
        else:
            raise SchemaError(f"{path} : type {type_name} non pris en charge")
